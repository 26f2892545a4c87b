# ruff: noqa: E501 -- the cases read as stories, one step a line
"""Cases 1, 2 and 5 of DOMAIN.md as the manager meets them: patrol log, evidence, pack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.evidence.verify import verify_pack
from hub.registry.enums import DeviceKind
from hub.signals.jobs import evaluate_durations
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")


def test_case_1_the_log_says_fine_at_1015_the_dispenser_ran_out_at_1010(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    room = register(
        db, clock, SITE, [("restroom-club-2f-men", DeviceKind.restroom, "clubhouse/2/men")]
    )["restroom-club-2f-men"]
    clock.set(datetime(2026, 11, 23, 2, 4, tzinfo=UTC))  # 10:04 in Shanghai
    for level in (20, 12, 4, 0, 0):
        send(db, clock, room, {"paper_pct": level, "soap_pct": 60})
        clock.advance(minutes=2)  # 10:04, 10:06, 10:08, 10:10, 10:12
    clock.set(datetime(2026, 11, 23, 2, 16, tzinfo=UTC))
    entry = {
        "location": "clubhouse/2/men",
        "inspector": "保洁 李阿姨",
        "observed_at": "2026-11-23T10:15:00+08:00",
        "items": [{"item": "paper", "state": "ok"}, {"item": "soap", "state": "ok"}],
    }
    made = client.post(
        "/api/v1/inspections", json=entry, headers=bearer(make_token(Role.cleaner))
    ).json()
    (flag,) = made["discrepancies"]
    assert flag["reason"].endswith("empty since 2026-11-23 10:10:00+08:00")
    assert flag["at"] == "2026-11-23T02:10:00Z"
    clock.set(datetime(2026, 11, 23, 2, 21, tzinfo=UTC))  # 10:21: the employee's photo, a complaint
    desk = bearer(make_token(Role.front_desk))
    complaint = client.post(
        "/api/v1/complaints",
        json={
            "content": "会所2楼男卫生间没有纸了",
            "location": "clubhouse/2/men",
            "channel": "visit",
        },
        headers=desk,
    ).json()
    manager = bearer(make_token(Role.manager))
    shown = client.get(f"/api/v1/complaints/{complaint['id']}/evidence", headers=manager).json()
    assert shown["subject"] == {"type": "complaint", "id": str(complaint["id"])}
    kinds = [e["type"] for e in shown["timeline"]]
    assert {"signal", "alarm", "inspection", "complaint_event"} <= set(kinds)
    patrol = next(e for e in shown["timeline"] if e["type"] == "inspection")
    assert "contradicted" in patrol["summary"]
    assert patrol["at_local"] == "2026-11-23 10:15:00+08:00"
    ran_out = next(
        e for e in shown["timeline"] if e["type"] == "signal" and e["data"]["paper_pct"] == 0
    )
    assert ran_out["at_local"] == "2026-11-23 10:10:00+08:00"
    assert len(ran_out["digest"]) == 64
    assert shown["integrity"]["verified"] is True
    listed = client.get("/api/v1/inspections/discrepancies", headers=manager).json()
    assert listed["by_inspector"] == {"保洁 李阿姨": 1}


def test_case_2_the_booth_button_onto_a_car_in_a_pack_that_settles_liability(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    send(db, clock, gate, {"arm": "up", "loop_occupied": True})
    clock.advance(seconds=3)
    send(db, clock, gate, {"type": "vehicle_in", "plate": "粤B12345"}, channel="event")
    clock.advance(seconds=2)
    send(
        db,
        clock,
        gate,
        {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
        channel="event",
    )
    clock.advance(minutes=10)
    manager = bearer(make_token(Role.manager))
    (order,) = client.get("/api/v1/work-orders?source=sensor", headers=manager).json()
    response = client.post(
        "/api/v1/evidence/exports", json={"work_order_id": order["id"]}, headers=manager
    )
    assert response.status_code == 201, response.text
    report = verify_pack(response.content)
    assert report.ok, report.problems
    shown = client.get(f"/api/v1/work-orders/{order['id']}/evidence", headers=manager).json()
    press = next(
        e
        for e in shown["timeline"]
        if e["type"] == "signal" and e["data"].get("type") == "arm_down"
    )
    assert press["data"] == {"type": "arm_down", "source": "manual_button", "loop_occupied": True}
    alarm = next(e for e in shown["timeline"] if e["type"] == "alarm")
    assert alarm["data"]["type"] == "gate_closed_on_vehicle"
    assert any(e["type"] == "work_order_event" for e in shown["timeline"])
    assert shown["integrity"]["checkpoint"]["seq"] == 1  # the pack's checkpoint


def test_case_5_the_truck_in_the_fire_lane(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    ctx = RuleContext()
    start = clock.now()
    send(db, clock, gate, {"arm": "down", "loop_occupied": True}, ctx=ctx)
    for _ in range(8):
        clock.advance(minutes=1)
        send(db, clock, gate, {"arm": "down", "loop_occupied": True}, ctx=ctx)
        evaluate_durations(session=db, ctx=ctx, now=clock.now())
    clock.advance(minutes=1)
    send(db, clock, gate, {"arm": "down", "loop_occupied": False}, ctx=ctx)
    manager = bearer(make_token(Role.manager))
    shown = client.get(
        f"/api/v1/devices/{gate.id}/evidence",
        params={
            "since": (start - timedelta(minutes=1)).isoformat(),
            "until": clock.now().isoformat(),
        },
        headers=manager,
    ).json()
    readings = [e for e in shown["timeline"] if e["type"] == "signal"]
    occupied = [e["at"] for e in readings if e["data"].get("loop_occupied") is True]
    freed = next(e["at"] for e in readings if e["data"].get("loop_occupied") is False)
    assert _t(freed) - _t(occupied[0]) == timedelta(minutes=9)  # how long the loop was occupied
    assert not [
        e for e in readings if e["data"].get("type") in ("arm_up", "arm_down")
    ]  # no arm moved
    (alarm,) = [e for e in shown["timeline"] if e["type"] == "alarm"]
    assert alarm["data"]["type"] == "lane_blocked"
    assert _t(alarm["at"]) - _t(occupied[0]) == timedelta(minutes=5)  # when security was warned
    assert alarm["at_local"].endswith("+08:00")
    assert shown["integrity"]["verified"] is True


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
