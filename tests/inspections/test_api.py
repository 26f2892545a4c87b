# ruff: noqa: E501 -- one case per line reads as a table
"""Patrol log entries through the HTTP API, and every input refused with a clear message."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import register, send

BASE = "/api/v1/inspections"
ROOM = "clubhouse/2/men"


@pytest.fixture
def room(db: Session, clock: ManualClock, sites: tuple[str, str]) -> Device:
    """The clubhouse 2F men's restroom dispenser, run empty 5 minutes ago; and another site's."""
    register(db, clock, OTHER_SITE, [("restroom-maple", DeviceKind.restroom, "a/1/wc")])
    device = register(db, clock, SITE, [("restroom-club-2f", DeviceKind.restroom, ROOM)])[
        "restroom-club-2f"
    ]
    send(db, clock, device, {"paper_pct": 3, "soap_pct": 70})
    clock.advance(minutes=3)
    send(db, clock, device, {"paper_pct": 0, "soap_pct": 70})
    clock.advance(minutes=2)
    return device


def entry(clock: ManualClock, **changes: Any) -> dict[str, Any]:
    """A valid entry body: paper and soap fine at the clubhouse restroom, a minute ago."""
    body: dict[str, Any] = {
        "site": SITE,
        "location": ROOM,
        "inspector": "保洁 李阿姨",
        "observed_at": (clock.now() - timedelta(minutes=1)).isoformat(),
        "items": [{"item": "paper", "state": "ok"}, {"item": "soap", "state": "ok", "note": ""}],
    }
    body.update(changes)
    return body


@pytest.mark.usefixtures("room")
def test_an_entry_the_dispenser_contradicts(
    client: TestClient, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    cleaner = bearer(make_token(Role.cleaner))
    response = client.post(BASE, json=entry(clock), headers=cleaner)
    assert response.status_code == 201, response.text
    made = response.json()
    (found,) = made["discrepancies"]
    assert (found["item"], found["claimed"], found["device_id"]) == (
        "paper",
        "ok",
        "restroom-club-2f",
    )
    assert "empty since" in found["reason"]
    assert [e["values"]["paper_pct"] for e in found["evidence"]] == [0]
    assert all(len(e["digest"]) == 64 for e in found["evidence"])
    assert [i["verdict"] for i in made["items"]] == ["contradicted", "consistent"]
    manager = bearer(make_token(Role.manager))
    page = client.get(f"{BASE}/discrepancies", headers=manager).json()
    assert [d["inspection_id"] for d in page["items"]] == [made["id"]]
    assert page["by_inspector"] == {"保洁 李阿姨": 1}
    assert page["by_route"] == {"-": 1}
    assert client.get(f"{BASE}/discrepancies", headers=cleaner).status_code == 403
    listed = client.get(BASE, params={"site": SITE}, headers=cleaner).json()
    assert [i["id"] for i in listed] == [made["id"]]
    assert client.get(f"{BASE}/{made['id']}", headers=cleaner).json()["discrepancies"]


def _future(clock: ManualClock) -> str:
    return (clock.now() + timedelta(minutes=6)).isoformat()


HOSTILE: list[tuple[str, Callable[[ManualClock], dict[str, Any]], int, str]] = [
    ("NUL in the inspector", lambda c: entry(c, inspector="李\x00"), 422, "inspector"),
    ("NUL in a note", lambda c: entry(c, items=[{"item": "paper", "state": "ok", "note": "a\x00"}]), 422, "items.0.note"),
    ("a lone surrogate", lambda c: entry(c, inspector="\ud800"), 422, "inspector"),
    ("a huge route id", lambda c: entry(c, route=2**40), 422, "route"),
    ("a negative route id", lambda c: entry(c, route=-1), 422, "route"),
    ("an unknown route", lambda c: entry(c, route=7), 404, ""),
    ("a future observed_at", lambda c: entry(c, observed_at=_future(c)), 422, "observed_at"),
    ("observed_at without offset", lambda c: entry(c, observed_at="2026-11-23T10:15:00"), 422, "observed_at"),
    ("observed_at not a time", lambda c: entry(c, observed_at="10:15"), 422, "observed_at"),
    ("an unknown item", lambda c: entry(c, items=[{"item": "mirror", "state": "ok"}]), 422, "items.0.item"),
    ("an unknown state", lambda c: entry(c, items=[{"item": "paper", "state": "meh"}]), 422, "items.0.state"),
    ("a state the item cannot be in", lambda c: entry(c, items=[{"item": "light", "state": "empty"}]), 422, "items.0"),
    ("an item twice", lambda c: entry(c, items=[{"item": "paper", "state": "ok"}] * 2), 422, ""),
    ("no items", lambda c: entry(c, items=[]), 422, "items"),
    ("an unknown field", lambda c: entry(c, weather="sunny"), 422, "weather"),
    ("both location and device", lambda c: entry(c, device_id="restroom-club-2f"), 422, ""),
    ("neither location nor device", lambda c: {k: v for k, v in entry(c).items() if k != "location"}, 422, ""),
    ("another site's location", lambda c: entry(c, location="a/1/wc"), 404, ""),
    ("another site's device", lambda c: entry(c, location=None, device_id="restroom-maple"), 404, ""),
    ("another site", lambda c: entry(c, site=OTHER_SITE), 404, ""),
    ("an unknown device", lambda c: entry(c, location=None, device_id="nope"), 404, ""),
    ("a huge number as a name", lambda c: entry(c, inspector=10**30), 422, "inspector"),
]  # fmt: skip


@pytest.mark.usefixtures("room")
@pytest.mark.parametrize(
    ("make", "status", "field"), [pytest.param(*h[1:], id=h[0]) for h in HOSTILE]
)
def test_bad_entries_are_refused_naming_the_field(
    client: TestClient,
    clock: ManualClock,
    make_token: Callable[..., str],
    make: Callable[[ManualClock], dict[str, Any]],
    status: int,
    field: str,
) -> None:
    headers = {**bearer(make_token(Role.security)), "Content-Type": "application/json"}
    response = client.post(BASE, content=json.dumps(make(clock)), headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if field:
        details = error.get("details")
        fields = [details["field"]] if isinstance(details, dict) else [d["field"] for d in details]
        assert field in fields, error


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-11-23T10:00:00"}, "since"),
        ({"colour": "red"}, "colour"),
        ({"limit": 10**12}, "limit"),
        ({"since": "2026-11-23T10:00:00+08:00", "until": "2026-11-23T09:00:00+08:00"}, "until"),
    ],
)
def test_bad_queries_are_refused(
    client: TestClient, make_token: Callable[..., str], params: dict[str, Any], field: str
) -> None:
    response = client.get(BASE, params=params, headers=bearer(make_token(Role.manager)))
    assert response.status_code == 422, response.text
    assert field in response.text


def test_another_sites_entries_are_not_found(
    client: TestClient, clock: ManualClock, room: Device, make_token: Callable[..., str]
) -> None:
    made = client.post(BASE, json=entry(clock), headers=bearer(make_token(Role.cleaner))).json()
    other = bearer(make_token(Role.manager, (OTHER_SITE,)))
    assert client.get(f"{BASE}/{made['id']}", headers=other).status_code == 404
    assert client.get(f"{BASE}/{2**31}", headers=other).status_code == 422
    assert client.get(BASE, params={"site": SITE}, headers=other).status_code == 404
    assert client.get(f"{BASE}/discrepancies", headers=other).json()["items"] == []
