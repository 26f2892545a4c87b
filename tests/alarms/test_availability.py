"""Availability: Last Will and retained status, heartbeat timeouts late → offline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hub.alarms.availability import last_seen_step
from hub.alarms.engine import RuleContext
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.jobs import check_heartbeats
from tests.conftest import SITE
from tests.pipeline import alarms_of, register, send, sensor_orders

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def gate(db: Session, clock: ManualClock) -> Device:
    """The garage gate (heartbeat timeout 120 s)."""
    return register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]


def test_last_will_offline_raises_an_alarm_that_traffic_clears(
    db: Session, clock: ManualClock, gate: Device
) -> None:
    send(db, clock, gate, "online", channel="status")
    clock.advance(minutes=1)
    send(db, clock, gate, "offline", channel="status")
    assert gate.status == "offline"
    (alarm,) = alarms_of(db, gate.id)
    assert alarm.type == "device_offline"
    (order,) = sensor_orders(db, SITE)
    assert (order.department, order.priority) == ("engineering", "high")
    clock.advance(minutes=1)
    send(db, clock, gate, {"arm": "down", "loop_occupied": False})
    assert gate.status == "online"
    assert alarms_of(db, gate.id) == []


def test_silence_makes_a_device_late_then_offline(
    db: Session, clock: ManualClock, gate: Device
) -> None:
    ctx = RuleContext()
    send(db, clock, gate, {"arm": "down", "loop_occupied": False}, ctx=ctx)
    # Timeout 120 s plus the last-seen step of 12 s.
    clock.advance(seconds=131)
    assert check_heartbeats(session=db, ctx=ctx, now=clock.now()) == {"late": 0, "offline": 0}
    clock.advance(seconds=2)
    assert check_heartbeats(session=db, ctx=ctx, now=clock.now())["late"] == 1
    assert gate.status == "late"
    assert alarms_of(db, gate.id) == []
    clock.advance(seconds=120)
    assert check_heartbeats(session=db, ctx=ctx, now=clock.now())["offline"] == 1
    assert gate.status == "offline"
    assert [a.type for a in alarms_of(db, gate.id)] == ["device_offline"]
    assert check_heartbeats(session=db, ctx=ctx, now=clock.now()) == {"late": 0, "offline": 0}


def test_a_chatty_device_is_never_late_early_although_last_seen_lags(
    db: Session, clock: ManualClock, gate: Device
) -> None:
    ctx = RuleContext()
    assert last_seen_step(gate.heartbeat_timeout_s) == timedelta(seconds=12)
    first = clock.now()
    for _ in range(3):  # at 0, 5 and 10 s: only the first moves the stored time
        send(db, clock, gate, {"arm": "down", "loop_occupied": False}, ctx=ctx)
        clock.advance(seconds=5)
    db.expire(gate)
    assert gate.last_seen_at == first
    last = first + timedelta(seconds=10)
    clock.set(last + timedelta(seconds=119))  # silent for less than the timeout
    assert check_heartbeats(session=db, ctx=ctx, now=clock.now()) == {"late": 0, "offline": 0}
    clock.set(first + timedelta(seconds=133))  # the stored time is timeout + step old
    assert check_heartbeats(session=db, ctx=ctx, now=clock.now())["late"] == 1


def test_a_device_never_seen_is_not_reported_offline(
    db: Session, clock: ManualClock, gate: Device
) -> None:
    clock.advance(days=3)
    assert check_heartbeats(session=db, ctx=RuleContext(), now=clock.now()) == {
        "late": 0,
        "offline": 0,
    }
    assert alarms_of(db, gate.id) == []


def test_many_devices_offline_share_one_order(db: Session, clock: ManualClock) -> None:
    leaks = register(
        db, clock, SITE, [(f"leak-b1-f{f:02d}", DeviceKind.leak, f"1/{f}") for f in range(1, 6)]
    )
    for leak in leaks.values():
        send(db, clock, leak, {"leak": False})
    clock.advance(minutes=31)
    check_heartbeats(session=db, ctx=RuleContext(), now=clock.now())
    assert len(sensor_orders(db, SITE)) == 1
    assert all(len(alarms_of(db, i)) == 1 for i in leaks)
