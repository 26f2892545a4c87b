"""The cases of the property-services sources, as the desk and the manager see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
from tests.pipeline import alarms_of, register, send, sensor_orders

pytestmark = pytest.mark.usefixtures("sites")


def test_restroom_paper_ran_out_before_the_photo(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """Case 1: the log says fine at 10:15; the sensor shows when the box ran empty."""
    room = register(
        db, clock, SITE, [("restroom-club-2f-men", DeviceKind.restroom, "clubhouse/2/men")]
    )["restroom-club-2f-men"]
    clock.set(datetime(2026, 11, 23, 2, 10, tzinfo=UTC))  # 10:10 in Shanghai
    for level in (35, 22, 9, 0):
        send(db, clock, room, {"paper_pct": level})
        clock.advance(minutes=3)
    raised = {a.type: a.raised_at for a in alarms_of(db, room.id)}
    assert raised == {
        "supplies_low": datetime(2026, 11, 23, 2, 16, tzinfo=UTC),  # 10:16
        "supplies_empty": datetime(2026, 11, 23, 2, 19, tzinfo=UTC),  # 10:19, before the photo
    }
    (order,) = sensor_orders(db, SITE)
    assert (order.department, order.priority) == ("cleaning", "high")
    timeline = client.get(
        f"/api/v1/devices/{room.id}/signals",
        params={"since": "2026-11-23T10:14:00+08:00", "until": "2026-11-23T10:21:00+08:00"},
        headers=bearer(make_token(Role.manager)),
    ).json()
    assert [s["payload"]["paper_pct"] for s in timeline["items"]] == [9, 0]


def test_gate_button_pressed_onto_a_car(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """Case 2: the arm came down from the booth button while the loop was occupied."""
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    send(db, clock, gate, {"arm": "up", "loop_occupied": True})
    clock.advance(seconds=4)
    send(
        db,
        clock,
        gate,
        {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
        channel="event",
    )
    (alarm,) = alarms_of(db, gate.id)
    assert (alarm.type, alarm.severity) == ("gate_closed_on_vehicle", "critical")
    assert alarm.detail["event"]["source"] == "manual_button"
    manager = bearer(make_token(Role.manager))
    events = client.get(
        f"/api/v1/devices/{gate.id}/signals", params={"channel": "event"}, headers=manager
    ).json()["items"]
    assert events[0]["payload"] == {
        "type": "arm_down",
        "source": "manual_button",
        "loop_occupied": True,
    }
    assert events[0]["digest"]
    (order,) = client.get("/api/v1/work-orders?source=sensor", headers=manager).json()
    assert (order["department"], order["priority"]) == ("security", "urgent")
    assert order["alarm_ids"] == [alarm.id]


def test_corridor_lights_out_for_days_waiting_for_lamps(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """Case 3: many corridors dark, one order, on hold for parts, the hub still knows."""
    lights = register(
        db, clock, SITE, [(f"light-b3-f{f:02d}", DeviceKind.light, f"3/{f}") for f in range(8, 13)]
    )
    ctx = RuleContext()
    for light in lights.values():
        send(db, clock, light, {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    (order,) = sensor_orders(db, SITE)
    policy = SlaPolicy()
    orders.transition(
        session=db, policy=policy, order=order, to="dispatched", actor="desk", now=clock.now(),
        assignee="eng-wang",
    )  # fmt: skip
    orders.transition(
        session=db, policy=policy, order=order, to="on_hold", actor="eng-wang", now=clock.now(),
        note="等灯管到货 monthly lamp purchase is late",
    )  # fmt: skip
    for _day in range(3):
        clock.advance(days=1)
        for light in lights.values():
            send(db, clock, light, {"on": True, "power_w": 0.0}, ctx=ctx)
    assert len(sensor_orders(db, SITE)) == 1
    desk = bearer(make_token(Role.front_desk))
    shown = client.get(f"/api/v1/work-orders/{order.id}", headers=desk).json()
    assert shown["status"] == "on_hold"
    assert "lamp" in shown["hold_reason"]
    assert len(shown["alarm_ids"]) == 5
    device = client.get("/api/v1/devices/light-b3-f10", headers=desk).json()
    assert device["active_alarms"][0]["work_order_id"] == order.id
    assert device["active_alarms"][0]["raised_at"].startswith("2026-11-23T09:01")


def test_burst_pipe_opens_an_urgent_engineering_order_at_once(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """Case 4: the sensor in 4-2's pipe well reports the leak before the owner reaches the desk."""
    leak = register(db, clock, SITE, [("leak-b4-f02", DeviceKind.leak, "4/2/pipe-well")])[
        "leak-b4-f02"
    ]
    send(db, clock, leak, {"leak": True, "flow_lpm": 40, "pressure_kpa": 90})
    desk = bearer(make_token(Role.front_desk))
    (order,) = client.get("/api/v1/work-orders?status=open", headers=desk).json()
    assert (order["source"], order["department"], order["priority"]) == (
        "sensor",
        "engineering",
        "urgent",
    )
    assert order["location"] == "4/2/pipe-well"
    assert order["due"]["dispatch"]["due_at"]


def test_truck_in_the_fire_lane(db: Session, clock: ManualClock) -> None:
    """Case 5: loop occupied for minutes with no arm movement warns security early."""
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    ctx = RuleContext()
    send(db, clock, gate, {"arm": "down", "loop_occupied": True}, ctx=ctx)
    for _ in range(4):
        clock.advance(minutes=1)
        evaluate_durations(session=db, ctx=ctx, now=clock.now())
    assert alarms_of(db, gate.id) == []
    clock.advance(minutes=1)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    (alarm,) = alarms_of(db, gate.id)
    assert alarm.type == "lane_blocked"
    assert alarm.raised_at == clock.now() - timedelta(0)
    (order,) = sensor_orders(db, SITE)
    assert order.department == "security"
    clock.advance(minutes=3)
    send(db, clock, gate, {"arm": "down", "loop_occupied": False}, ctx=ctx)
    assert alarms_of(db, gate.id) == []
    assert order.condition_cleared_at == clock.now()
