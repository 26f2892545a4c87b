"""The work-order routes as the desk and engineers use them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.service import add_device
from tests.conftest import OTHER_SITE, SITE, bearer

BURST = {
    "site": SITE,
    "title": "4-2-301 水管爆裂 burst pipe",
    "description": "业主到前台报告,水从天花板流下",
    "department": "engineering",
    "priority": "urgent",
    "location": "4/3/301",
}


@pytest.fixture
def desk(make_token: Callable[..., str]) -> dict[str, str]:
    """Front-desk credentials."""
    return bearer(make_token(Role.front_desk))


@pytest.fixture
def located(db: Session, clock: ManualClock, sites: tuple[str, str]) -> None:
    """A unit and a device in the demo site."""
    add_device(
        session=db,
        device_id="leak-b4-f03",
        site_id=SITE,
        kind=DeviceKind.leak,
        location_path="4/3/pipe-well",
        now=clock.now(),
    )
    from hub.registry.service import ensure_location

    ensure_location(session=db, site_id=SITE, path="4/3/301")


@pytest.mark.usefixtures("located")
def test_the_desk_registers_and_follows_a_burst_pipe(
    client: TestClient, desk: dict[str, str], clock: ManualClock
) -> None:
    created = client.post("/api/v1/work-orders", json=BURST, headers=desk)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "open"
    assert order["source"] == "manual"
    assert order["location"] == "4/3/301"
    assert order["alarm_ids"] == []
    registered = clock.now()
    assert order["due"]["on_site"]["due_at"] == (
        registered + timedelta(minutes=5)
    ).isoformat().replace("+00:00", "Z")
    assert order["history"][0]["to"] == "open"

    url = f"/api/v1/work-orders/{order['id']}/transitions"
    clock.advance(seconds=40)
    moved = client.post(url, json={"to": "dispatched", "assignee": "eng-wang"}, headers=desk)
    assert moved.status_code == 200
    assert moved.json()["assignee"] == "eng-wang"
    assert moved.json()["due"]["dispatch"]["met_at"] is not None
    assert moved.json()["due"]["dispatch"]["breached"] is False
    last = moved.json()["history"][-1]
    assert (last["from"], last["to"]) == ("open", "dispatched")

    fetched = client.get(f"/api/v1/work-orders/{order['id']}", headers=desk).json()
    assert fetched["status"] == "dispatched"
    assert len(fetched["history"]) == 2


@pytest.mark.usefixtures("located")
def test_a_forbidden_move_is_409_with_the_allowed_ones(
    client: TestClient, desk: dict[str, str]
) -> None:
    order_id = client.post("/api/v1/work-orders", json=BURST, headers=desk).json()["id"]
    response = client.post(
        f"/api/v1/work-orders/{order_id}/transitions", json={"to": "closed"}, headers=desk
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["details"]["allowed"] == ["cancelled", "dispatched"]


@pytest.mark.usefixtures("located")
def test_hold_pauses_deadlines_in_the_view(
    client: TestClient, desk: dict[str, str], clock: ManualClock
) -> None:
    order_id = client.post("/api/v1/work-orders", json=BURST, headers=desk).json()["id"]
    url = f"/api/v1/work-orders/{order_id}/transitions"
    client.post(url, json={"to": "dispatched", "assignee": "eng-wang"}, headers=desk)
    held = client.post(
        url, json={"to": "on_hold", "note": "等配件 waiting for a valve"}, headers=desk
    )
    assert held.json()["hold_reason"] == "等配件 waiting for a valve"
    due_before = held.json()["due"]["resolve"]["due_at"]
    clock.advance(hours=1)
    during = client.get(f"/api/v1/work-orders/{order_id}", headers=desk).json()
    assert during["due"]["resolve"]["due_at"] > due_before
    assert during["on_hold_since"] is not None
    resumed = client.post(url, json={"to": "on_site"}, headers=desk).json()
    assert resumed["hold_total_s"] == 3600
    assert resumed["due"]["resolve"]["due_at"] == during["due"]["resolve"]["due_at"]


@pytest.mark.usefixtures("located")
def test_list_filters_by_status_source_and_site(
    client: TestClient, make_token: Callable[..., str], clock: ManualClock
) -> None:
    both = bearer(make_token(Role.manager, (SITE, OTHER_SITE)))
    first = client.post("/api/v1/work-orders", json=BURST, headers=both).json()
    clock.advance(minutes=1)
    other = {**BURST, "site": OTHER_SITE, "location": None, "title": "枫叶苑 南门道闸故障"}
    second = client.post("/api/v1/work-orders", json=other, headers=both).json()
    client.post(
        f"/api/v1/work-orders/{first['id']}/transitions",
        json={"to": "dispatched", "assignee": "eng-wang"},
        headers=both,
    )

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/work-orders{query}", headers=both)
        assert response.status_code == 200
        return [o["id"] for o in response.json()]

    assert ids("") == [second["id"], first["id"]]  # newest first
    assert ids("?status=open") == [second["id"]]
    assert ids("?status=open&status=dispatched") == [second["id"], first["id"]]
    assert ids(f"?site={SITE}") == [first["id"]]
    assert ids("?source=sensor") == []
    assert ids("?source=manual&limit=1") == [second["id"]]
    assert ids("?source=manual&limit=1&offset=1") == [first["id"]]


@pytest.mark.usefixtures("located")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"department": "plumbing"}, "department"),
        ({"priority": "asap"}, "priority"),
        ({"title": ""}, "title"),
        ({"site": None}, "site"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, desk: dict[str, str], change: dict[str, object], field: str
) -> None:
    body = {k: v for k, v in {**BURST, **change}.items() if v is not None}
    response = client.post("/api/v1/work-orders", json=body, headers=desk)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]
    assert field in error["message"]


@pytest.mark.usefixtures("located")
def test_unknown_location_or_device_is_refused(client: TestClient, desk: dict[str, str]) -> None:
    missing_location = client.post(
        "/api/v1/work-orders", json={**BURST, "location": "9/99"}, headers=desk
    )
    assert missing_location.status_code == 422
    missing_device = client.post(
        "/api/v1/work-orders", json={**BURST, "device_id": "leak-nowhere"}, headers=desk
    )
    assert missing_device.status_code == 404
    with_device = client.post(
        "/api/v1/work-orders",
        json={**BURST, "location": None, "device_id": "leak-b4-f03"},
        headers=desk,
    )
    assert with_device.status_code == 201
    assert with_device.json()["location"] == "4/3/pipe-well"


@pytest.mark.usefixtures("located")
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v1/work-orders/abc", None, 422),
        ("GET", "/api/v1/work-orders/999999", None, 404),
        ("GET", "/api/v1/no-such-route", None, 404),
        ("DELETE", "/api/v1/work-orders", None, 405),
        ("POST", "/api/v1/work-orders/1/transitions", {"to": "flying"}, 422),
        ("GET", "/api/v1/work-orders?limit=0", None, 422),
    ],
)
def test_every_error_has_the_contract_shape(
    client: TestClient,
    desk: dict[str, str],
    method: str,
    path: str,
    body: object,
    status: int,
) -> None:
    response = client.request(method, path, json=body, headers=desk)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}


def test_malformed_json_is_a_4xx(client: TestClient, desk: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/work-orders",
        content=b"{not json",
        headers={**desk, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
