"""Input no database can store is a 422 naming the field, never a 500 — on both databases.

PostgreSQL refuses NUL in text and integers past a column's range where SQLite shrugs; a
lone surrogate cannot be encoded for either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.auth.enums import Role
from hub.inputs import unstorable
from tests.conftest import SITE, bearer

BIG = 2**31
CASES: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/v1/work-orders/2147483648", None, "order_id"),
    ("GET", "/api/v1/work-orders/-1", None, "order_id"),
    ("POST", "/api/v1/work-orders/2147483648/transitions", {"to": "cancelled"}, "order_id"),
    ("POST", "/api/v1/alarms/2147483648/ack", None, "alarm_id"),
    ("GET", "/api/v1/alarms/99999999999999999999999", None, "alarm_id"),
    ("GET", "/api/v1/complaints/2147483648", None, "complaint_id"),
    ("GET", f"/api/v1/work-orders?offset={2**63}", None, "offset"),
    ("GET", f"/api/v1/alarms?offset={BIG}", None, "offset"),
    ("GET", f"/api/v1/complaints?work_order={BIG}", None, "work_order"),
    ("POST", "/api/v1/complaints", {"content": "漏水", "loss_amount": BIG}, "loss_amount"),
    ("POST", "/api/v1/complaints", {"content": "漏水", "owner_id": -34359738369}, "owner_id"),
    ("POST", "/api/v1/complaints", {"content": "\u0000"}, "content"),
    ("POST", "/api/v1/complaints", {"content": "灯坏了\u0000"}, "content"),
    ("POST", "/api/v1/complaints", {"content": "灯坏了\ud800"}, "content"),
    ("POST", "/api/v1/complaints", {"content": "灯坏了", "unit": "3/12\u0000"}, "unit"),
    ("POST", "/api/v1/complaints", {"content": "灯坏了", "complainant_name": "\udfff"}, ""),
    ("GET", "/api/v1/devices?site=%00", None, "site"),
    ("GET", "/api/v1/devices/%00", None, "path"),
    ("GET", "/api/v1/work-orders?site=a%00b", None, "site"),
    ("GET", "/api/v1/complaints/stats?until=0.5", None, "until"),
    ("GET", "/api/v1/complaints/stats?since=2026-12-01T10:00:00", None, "since"),
    (
        "POST",
        "/api/v1/work-orders",
        {"site": SITE, "title": "a\u0000", "department": "engineering"},
        "title",
    ),
]


def _raw(body: Any) -> bytes:
    """JSON as a client sends it: json.dumps writes a lone surrogate as its escape."""
    return json.dumps(body).encode() if body is not None else b""


def _body(method: str, body: Any) -> dict[str, Any]:
    return {} if method == "GET" else {"content": _raw(body)}


@pytest.mark.parametrize(("method", "url", "body", "field"), CASES)
def test_unstorable_input_is_a_422_naming_the_field(
    client: TestClient,
    make_token: Callable[..., str],
    method: str,
    url: str,
    body: Any,
    field: str,
) -> None:
    headers = {**bearer(make_token(Role.manager)), "Content-Type": "application/json"}
    response = client.request(method, url, headers=headers, **_body(method, body))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in d["field"] for d in error["details"]), error


def test_a_reply_says_whether_the_owner_accepts_with_a_boolean(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    headers = bearer(make_token(Role.front_desk))
    complaint = client.post("/api/v1/complaints", json={"content": "灯坏了"}, headers=headers)
    url = f"/api/v1/complaints/{complaint.json()['id']}/replies"
    refused = client.post(url, json={"text": "好的", "owner_accepts": 0}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert client.post(
        url, json={"text": "好的", "owner_accepts": False}, headers=headers
    ).is_success


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=40))
def test_any_complaint_text_is_stored_or_refused_never_a_server_error(
    client: TestClient, make_token: Callable[..., str], text: str
) -> None:
    headers = {**bearer(make_token(Role.front_desk)), "Content-Type": "application/json"}
    response = client.post(
        "/api/v1/complaints", content=_raw({"content": text, "request": text}), headers=headers
    )
    if unstorable(text) is not None:
        assert response.status_code == 422, response.text
    else:
        assert response.status_code in (201, 422), response.text
        if response.status_code == 201:
            assert response.json()["content"] == text.strip()
