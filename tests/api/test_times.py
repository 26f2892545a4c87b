"""Every time a person or a device sends goes through one bounded parser: a valid ISO-8601
time whose UTC is out of range is a 422 naming the field on every route, never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from hub.app import create_app
from hub.auth.enums import Role
from hub.inputs import EARLIEST, LATEST, TimeOutOfRange, parse_time
from hub.settings import Settings
from tests.conftest import SITE, bearer

EXTREMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2201-01-01T00:00:00Z"]

OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(
    moment=st.datetimes(),
    offset=OFFSETS,
    sep=st.sampled_from(["T", " "]),
    spec=st.sampled_from(["auto", "seconds", "minutes", "milliseconds"]),
)
def test_the_parser_is_bounded_over_the_whole_iso_range(
    moment: datetime, offset: timezone, sep: str, spec: str
) -> None:
    text = moment.replace(tzinfo=offset).isoformat(sep=sep, timespec=spec)
    try:
        parsed = parse_time(text)
    except TimeOutOfRange:
        try:
            utc = moment.replace(tzinfo=offset).astimezone(UTC)
        except OverflowError:
            return
        assert not EARLIEST <= utc <= LATEST
        return
    assert parsed.tzinfo is UTC
    assert EARLIEST <= parsed <= LATEST
    assert parsed == datetime.fromisoformat(text)


@given(st.text(max_size=80))
def test_any_text_is_a_time_or_a_value_error(text: str) -> None:
    try:
        parsed = parse_time(text)
    except ValueError:
        return
    assert EARLIEST <= parsed <= LATEST


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00", "2026-12-01", "1700000000", "0.5"])
def test_no_offset_or_no_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601|offset"):
        parse_time(text)


def _time_queries() -> Iterator[tuple[str, str]]:
    """(path, parameter) of every GET route taking a time in its query."""
    app = create_app(Settings())
    for path, item in app.openapi()["paths"].items():
        get = item.get("get")
        if get is None:
            continue
        for param in get.get("parameters", []):
            schema = param.get("schema", {})
            shapes = [schema, *schema.get("anyOf", [])]
            if param["in"] == "query" and any(s.get("format") == "date-time" for s in shapes):
                yield path, param["name"]


TIME_QUERIES = sorted(set(_time_queries()))


def test_the_time_routes_are_found() -> None:
    found = {path for path, _ in TIME_QUERIES}
    assert {"/api/v1/inspections", "/api/v1/devices/{device_id}/signals"} <= found
    assert len(TIME_QUERIES) >= 7


def _url(path: str, name: str, value: str) -> str:
    filled = path.replace("{device_id}", "leak-1").replace("{site}", SITE)
    filled = filled.replace("{report}", "sla")
    return f"{filled}?{name}={quote(value)}"


@pytest.mark.parametrize(("path", "name"), TIME_QUERIES)
def test_an_extreme_time_in_a_query_is_a_422(
    client: TestClient, make_token: Callable[..., str], path: str, name: str
) -> None:
    headers = bearer(make_token(Role.manager))
    for value in EXTREMES:
        response = client.get(_url(path, name, value), headers=headers)
        assert response.status_code == 422, (path, value, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(name in f for f in fields), response.text
    assert client.get("/api/v1/me", headers=headers).status_code == 200


BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("/api/v1/complaints", {"content": "漏水", "received_at": "{t}"}, "received_at"),
    (
        "/api/v1/inspections",
        {
            "site": SITE,
            "location": "1",
            "inspector": "王",
            "observed_at": "{t}",
            "items": [{"name": "pump", "ok": True}],
        },
        "observed_at",
    ),
]


@pytest.mark.parametrize(("path", "body", "name"), BODIES)
def test_an_extreme_time_in_a_body_is_a_422(
    app: FastAPI,
    client: TestClient,
    make_token: Callable[..., str],
    path: str,
    body: dict[str, Any],
    name: str,
) -> None:
    headers = bearer(make_token(Role.manager))
    for value in EXTREMES:
        sent = {k: (value if v == "{t}" else v) for k, v in body.items()}
        response = client.post(path, json=sent, headers=headers)
        assert response.status_code == 422, (path, value, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(name in f for f in fields), response.text
