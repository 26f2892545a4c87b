"""Tokens and site scopes: no token → 401, another site's objects → 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.auth.models import ApiToken
from hub.clock import ManualClock
from tests.conftest import OTHER_SITE, SITE, bearer

ORDER = {"site": SITE, "title": "走廊灯不亮", "department": "engineering", "priority": "normal"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer fh_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "invalid", "wrong-scheme", "empty"],
)
def test_every_api_route_needs_a_valid_token(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in [
        ("GET", "/api/v1/work-orders"),
        ("GET", "/api/v1/work-orders/1"),
        ("POST", "/api/v1/work-orders"),
        ("POST", "/api/v1/work-orders/1/transitions"),
        ("GET", "/api/v1/devices"),
        ("GET", "/api/v1/me"),
    ]:
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_revoked_token_is_refused(
    client: TestClient, db: Session, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.front_desk)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    for row in db.scalars(select(ApiToken)):
        row.revoked_at = clock.now()
    db.flush()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_me_shows_role_and_sites(client: TestClient, make_token: Callable[..., str]) -> None:
    token = make_token(Role.manager, (SITE, OTHER_SITE))
    body = client.get("/api/v1/me", headers=bearer(token)).json()
    assert body["role"] == "manager"
    assert body["sites"] == sorted([SITE, OTHER_SITE])


def test_another_sites_orders_are_invisible(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    ours = make_token(Role.front_desk, (SITE,))
    theirs = make_token(Role.front_desk, (OTHER_SITE,))
    created = client.post("/api/v1/work-orders", json=ORDER, headers=bearer(ours))
    assert created.status_code == 201
    order_id = created.json()["id"]

    assert client.get(f"/api/v1/work-orders/{order_id}", headers=bearer(theirs)).status_code == 404
    move = client.post(
        f"/api/v1/work-orders/{order_id}/transitions",
        json={"to": "cancelled"},
        headers=bearer(theirs),
    )
    assert move.status_code == 404
    assert client.get("/api/v1/work-orders", headers=bearer(theirs)).json() == []
    # Creating in a site outside the scope reads as "no such site".
    foreign = client.post("/api/v1/work-orders", json=ORDER, headers=bearer(theirs))
    assert foreign.status_code == 404
    assert client.get(f"/api/v1/work-orders/{order_id}", headers=bearer(ours)).status_code == 200


def test_workers_do_not_close_their_own_orders(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    desk = bearer(make_token(Role.front_desk))
    engineer = bearer(make_token(Role.engineer))
    order_id = client.post("/api/v1/work-orders", json=ORDER, headers=desk).json()["id"]
    url = f"/api/v1/work-orders/{order_id}/transitions"
    for to, headers in [
        ({"to": "dispatched", "assignee": "eng-wang"}, desk),
        ({"to": "on_site"}, engineer),
        ({"to": "resolved", "note": "换了灯管 lamp replaced"}, engineer),
    ]:
        assert client.post(url, json=to, headers=headers).status_code == 200
    refused = client.post(url, json={"to": "callback"}, headers=engineer)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert client.post(url, json={"to": "callback"}, headers=desk).status_code == 200
