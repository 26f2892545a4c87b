"""Patrol rounds through the case machinery, and the re-check after a late sensor message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.cases import watchdog
from hub.clock import ManualClock
from hub.inspections import jobs, rounds
from hub.registry.enums import DeviceKind
from tests.conftest import SITE, bearer
from tests.pipeline import ingest, message, register

BASE = "/api/v1/inspections"


def test_a_round_walked_then_one_missed(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    register(
        db,
        clock,
        SITE,
        [
            ("restroom-1f", DeviceKind.restroom, "clubhouse/1/wc"),
            ("restroom-2f", DeviceKind.restroom, "clubhouse/2/wc"),
        ],
    )
    manager = bearer(make_token(Role.manager))
    route = client.post(
        f"{BASE}/routes",
        json={
            "name": "restrooms",
            "interval_minutes": 120,
            "grace_minutes": 10,
            "checkpoints": [
                {"location": "clubhouse/1/wc", "items": ["paper", "soap"]},
                {"location": "clubhouse/2/wc", "items": ["paper"]},
            ],
        },
        headers=manager,
    )
    assert route.status_code == 201, route.text
    (due,) = client.get(f"{BASE}/rounds", headers=manager).json()
    assert (due["status"], due["checkpoints"], due["visited"]) == ("due", 2, [])
    cleaner = bearer(make_token(Role.cleaner))
    for floor in (1, 2):
        clock.advance(minutes=20)
        body = {
            "location": f"clubhouse/{floor}/wc",
            "inspector": "李阿姨",
            "observed_at": clock.now().isoformat(),
            "items": [{"item": "paper", "state": "ok"}],
            "route": "restrooms",
        }
        assert client.post(BASE, json=body, headers=cleaner).status_code == 201
    (done,) = client.get(f"{BASE}/rounds", headers=manager).json()
    assert (done["status"], done["breached"]) == ("done", False)
    clock.advance(minutes=100)  # the next period begins; nobody walks it
    assert jobs.watch(session=db, now=clock.now(), zone=UTC).opened == 1
    clock.advance(minutes=131)
    watchdog.flag_all(session=db, kinds=[rounds.CASES], now=clock.now())
    result = jobs.watch(session=db, now=clock.now(), zone=UTC)
    assert result.missed == 1
    shown = client.get(f"{BASE}/rounds", params={"status": "missed"}, headers=manager).json()
    assert [r["status"] for r in shown] == ["missed"]
    assert shown[0]["breached"] is True
    bad = client.get(f"{BASE}/rounds", params={"status": "lost"}, headers=manager)
    assert bad.status_code == 422
    assert "status" in bad.text


def test_a_late_message_contradicts_an_entry_already_checked(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    room = register(db, clock, SITE, [("restroom-b2", DeviceKind.restroom, "2/1/wc")])[
        "restroom-b2"
    ]
    observed = clock.now()
    made = client.post(
        BASE,
        json={
            "device_id": room.id,
            "inspector": "张师傅",
            "observed_at": observed.isoformat(),
            "items": [{"item": "paper", "state": "ok"}],
        },
        headers=bearer(make_token(Role.security)),
    ).json()
    assert made["items"][0]["verdict"] == "unverifiable"
    clock.advance(minutes=30)  # the dispenser's buffered reading of 10 minutes earlier arrives
    late = {"ts": (observed - timedelta(minutes=2)).isoformat(), "paper_pct": 0}
    ingest(db, clock, message(SITE, "restroom", room.id, late, at=clock.now()))
    clock.advance(seconds=30)
    result = jobs.watch(session=db, now=clock.now(), zone=UTC)
    assert (result.rechecked, result.discrepancies) == (1, 1)
    assert jobs.watch(session=db, now=clock.now(), zone=UTC).rechecked == 0
    shown = client.get(f"{BASE}/{made['id']}", headers=bearer(make_token(Role.manager))).json()
    assert shown["items"][0]["verdict"] == "contradicted"
    assert shown["discrepancies"][0]["observed"].startswith("0 %")
    count = jobs.recheck_devices(
        session=db, earliest={room.id: observed - timedelta(minutes=2)}, now=clock.now(), zone=UTC
    )
    assert count == 1
