# ruff: noqa: E501 -- the cases read as stories, one step a line
"""Cases 1–5 of DOMAIN.md: the findings that lead each evidence response, as facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.signals.jobs import evaluate_durations
from hub.workorders import service as orders
from hub.workorders.policy import SlaPolicy
from tests.conftest import SITE, bearer
from tests.pipeline import register, send, sensor_orders

pytestmark = pytest.mark.usefixtures("sites")


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _kinds(shown: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in shown["findings"]]


def _one(shown: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [f for f in shown["findings"] if f["kind"] == kind]
    return found


def _signal(shown: dict[str, Any], **data: Any) -> dict[str, Any]:
    return next(
        e
        for e in shown["timeline"]
        if e["type"] == "signal" and all(e["data"].get(k) == v for k, v in data.items())
    )


def test_case_1_paper_ran_out_before_the_patrol_said_it_was_fine(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    room = register(
        db, clock, SITE, [("restroom-club-2f-men", DeviceKind.restroom, "clubhouse/2/men")]
    )["restroom-club-2f-men"]
    clock.set(datetime(2026, 11, 23, 2, 4, tzinfo=UTC))  # 10:04 in Shanghai
    for level in (20, 12, 4, 0, 0):
        send(db, clock, room, {"paper_pct": level, "soap_pct": 60})
        clock.advance(minutes=2)  # 10:04 … 10:12
    clock.set(datetime(2026, 11, 23, 2, 16, tzinfo=UTC))
    entry = {"location": "clubhouse/2/men", "inspector": "保洁 李阿姨", "observed_at": "2026-11-23T10:15:00+08:00",
             "items": [{"item": "paper", "state": "ok"}, {"item": "soap", "state": "ok"}]}  # fmt: skip
    made = client.post(
        "/api/v1/inspections", json=entry, headers=bearer(make_token(Role.cleaner))
    ).json()
    clock.set(datetime(2026, 11, 23, 2, 40, tzinfo=UTC))
    send(db, clock, room, {"paper_pct": 100, "soap_pct": 60})  # 10:40 refilled
    clock.advance(minutes=1)
    complaint = client.post(
        "/api/v1/complaints",
        json={
            "content": "会所2楼男卫生间没有纸了",
            "location": "clubhouse/2/men",
            "channel": "visit",
        },
        headers=bearer(make_token(Role.front_desk)),
    ).json()
    shown = client.get(
        f"/api/v1/complaints/{complaint['id']}/evidence", headers=bearer(make_token(Role.manager))
    ).json()
    ran_out = _one(shown, "paper_out")
    assert ran_out["at"] == "2026-11-23T02:10:00Z"
    assert ran_out["decisive"] is True
    assert ran_out["refs"] == [{"type": "signal", "id": _signal(shown, paper_pct=0)["ref"]["id"]}]
    assert _one(shown, "paper_out_end")["at"] == "2026-11-23T02:40:00Z"  # refilled
    contradicted = _one(shown, "paper_patrol_contradicted")
    assert contradicted["decisive"] is True
    assert contradicted["at"] == "2026-11-23T02:15:00Z"
    assert {"type": "inspection", "id": made["id"]} in contradicted["refs"]
    assert "2026-11-23 10:10:00" in contradicted["statement"]  # when it ran out, local
    assert "2026-11-23 10:10:00" in contradicted["statement_en"]
    assert "soap_out" not in _kinds(shown)  # soap never ran out, nothing said of it
    assert "soap_patrol_contradicted" not in _kinds(shown)


def test_case_2_the_arm_lowered_from_the_booth_button_onto_a_car(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    send(db, clock, gate, {"arm": "down", "loop_occupied": False})
    clock.advance(hours=1)  # an ordinary passage an hour before: not part of the answer
    send(
        db,
        clock,
        gate,
        {"type": "arm_up", "source": "plate_match", "loop_occupied": True},
        channel="event",
    )
    clock.advance(hours=1)
    send(
        db,
        clock,
        gate,
        {"type": "arm_up", "source": "plate_match", "loop_occupied": True},
        channel="event",
    )
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
    shown = client.get(f"/api/v1/work-orders/{order['id']}/evidence", headers=manager).json()
    first = shown["findings"][0]
    press = _signal(shown, type="arm_down")
    assert first["kind"] == "arm_lowered_onto_vehicle"
    assert first["decisive"] is True
    assert first["refs"] == [{"type": "signal", "id": press["ref"]["id"]}]
    assert first["at"] == press["at"]
    assert (
        "the arm was lowered from the booth button while a vehicle stood on the loop"
        in first["statement_en"].lower()
    )
    assert first["statement"].startswith("道闸由岗亭按钮落杆")
    moves = [f for f in shown["findings"] if f["kind"] == "arm_moved"]
    assert [_t(f["at"]) for f in moves] == [
        _t(press["at"]) - timedelta(seconds=5)
    ]  # the move around it, not the hour before
    assert _one(shown, "vehicle_passed")["at"] == _signal(shown, type="vehicle_in")["at"]
    assert "alarm_closed_on_vehicle" in _kinds(shown)
    decisive = [f["kind"] for f in shown["findings"] if f["decisive"]]
    assert decisive == ["arm_lowered_onto_vehicle"]
    # the same findings lead the device's evidence:
    device = client.get(f"/api/v1/devices/{gate.id}/evidence", headers=manager).json()
    assert device["findings"][0]["kind"] == "arm_lowered_onto_vehicle"


def test_case_3_lamps_failed_the_order_held_for_lamps_then_repaired(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    lights = register(
        db, clock, SITE, [(f"light-b3-f{f:02d}", DeviceKind.light, f"3/{f}") for f in range(8, 11)]
    )
    ctx = RuleContext()
    for light in lights.values():
        send(db, clock, light, {"on": True, "power_w": 9.0}, ctx=ctx)
    clock.advance(minutes=1)
    failed_at = clock.now()
    for light in lights.values():
        send(db, clock, light, {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    (order,) = sensor_orders(db, SITE)
    policy = SlaPolicy()
    orders.transition(
        session=db,
        policy=policy,
        order=order,
        to="dispatched",
        actor="desk",
        now=clock.now(),
        assignee="eng-wang",
    )
    clock.advance(minutes=30)
    held_at = clock.now()
    orders.transition(
        session=db,
        policy=policy,
        order=order,
        to="on_hold",
        actor="eng-wang",
        now=clock.now(),
        note="等灯管到货 monthly lamp purchase is late",
    )
    clock.advance(days=3)
    orders.transition(
        session=db, policy=policy, order=order, to="on_site", actor="eng-wang", now=clock.now()
    )
    for light in lights.values():
        send(db, clock, light, {"on": True, "power_w": 9.1}, ctx=ctx)
    repaired_at = clock.now()
    orders.transition(
        session=db, policy=policy, order=order, to="resolved", actor="eng-wang", now=clock.now()
    )
    db.commit()
    shown = client.get(
        f"/api/v1/work-orders/{order.id}/evidence", headers=bearer(make_token(Role.manager))
    ).json()
    failed = [f for f in shown["findings"] if f["kind"] == "lamp"]
    assert len(failed) == 3
    assert all(_t(f["at"]) == failed_at and f["decisive"] for f in failed)
    held = _one(shown, "order_on_hold")
    assert _t(held["at"]) == held_at
    assert held["decisive"] is True
    assert "lamp purchase is late" in held["statement_en"]
    assert "等灯管到货" in held["statement"]
    assert held["refs"] == [{"type": "work_order", "id": order.id}]
    assert [_t(f["at"]) for f in shown["findings"] if f["kind"] == "lamp_end"] == [repaired_at] * 3
    resolved = [f for f in shown["findings"] if f["kind"].startswith("order_resolved")]
    assert [_t(f["at"]) for f in resolved] == [repaired_at]
    assert _one(shown, "order_dispatched")["decisive"] is False


def test_case_4_burst_pipe_against_the_sla(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    leak = register(db, clock, SITE, [("leak-b4-f02", DeviceKind.leak, "4/2/pipe-well")])[
        "leak-b4-f02"
    ]
    ctx = RuleContext()
    send(db, clock, leak, {"leak": False, "flow_lpm": 0, "pressure_kpa": 300}, ctx=ctx)
    clock.advance(minutes=1)
    detected = clock.now()
    send(db, clock, leak, {"leak": True, "flow_lpm": 40, "pressure_kpa": 90}, ctx=ctx)
    (order,) = sensor_orders(db, SITE)
    policy = SlaPolicy()
    clock.advance(seconds=40)  # within the minute an urgent order allows
    dispatched = clock.now()
    orders.transition(
        session=db,
        policy=policy,
        order=order,
        to="dispatched",
        actor="desk",
        now=clock.now(),
        assignee="eng-li",
    )
    clock.advance(hours=2)  # far past any on-site deadline of an urgent order
    on_site = clock.now()
    orders.transition(
        session=db, policy=policy, order=order, to="on_site", actor="eng-li", now=clock.now()
    )
    clock.advance(minutes=2)
    shut = clock.now()
    send(db, clock, leak, {"leak": True, "flow_lpm": 0, "pressure_kpa": 90}, ctx=ctx)
    clock.advance(minutes=10)
    dry = clock.now()
    send(db, clock, leak, {"leak": False, "flow_lpm": 0, "pressure_kpa": 300}, ctx=ctx)
    db.commit()
    shown = client.get(
        f"/api/v1/work-orders/{order.id}/evidence", headers=bearer(make_token(Role.manager))
    ).json()
    water = _one(shown, "water")
    assert _t(water["at"]) == detected
    assert water["decisive"] is True
    assert _t(_one(shown, "leak_alarm")["at"]) == detected
    assert _t(_one(shown, "order_opened")["at"]) == detected
    assert _t(_one(shown, "order_dispatched")["at"]) == dispatched  # in time: no `_late`
    assert _t(_one(shown, "order_on_site_late")["at"]) == on_site  # the SLA missed, said so
    assert _t(_one(shown, "flow_end")["at"]) == shut  # shut off
    assert _t(_one(shown, "water_end")["at"]) == dry  # dry again
    assert "flow" not in _kinds(shown)  # water flowing is not a finding by itself


def test_case_5_the_loop_occupied_nine_minutes_without_the_arm_moving(
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
    clock.advance(minutes=1)  # a short stop later: under five minutes, no finding
    send(db, clock, gate, {"arm": "down", "loop_occupied": True}, ctx=ctx)
    clock.advance(minutes=2)
    send(db, clock, gate, {"arm": "down", "loop_occupied": False}, ctx=ctx)
    manager = bearer(make_token(Role.manager))
    params = {"since": (start - timedelta(minutes=1)).isoformat(), "until": clock.now().isoformat()}
    shown = client.get(f"/api/v1/devices/{gate.id}/evidence", params=params, headers=manager).json()
    occupied = _one(shown, "lane_occupied")
    freed = _signal(shown, loop_occupied=False)
    assert _t(occupied["at"]) == start
    assert occupied["decisive"] is True
    assert occupied["refs"][1] == {
        "type": "signal",
        "id": freed["ref"]["id"],
    }  # until the loop freed, 9 min
    assert _t(freed["at"]) - start == timedelta(minutes=9)
    assert "9" in occupied["statement"]
    assert "9 minutes" in occupied["statement_en"]
    warned = _one(shown, "security_warned")
    assert _t(warned["at"]) - start == timedelta(minutes=5)
    alarm = next(e for e in shown["timeline"] if e["type"] == "alarm")
    assert warned["refs"] == [{"type": "alarm", "id": alarm["ref"]["id"]}]
    assert "arm_moved" not in _kinds(shown)
