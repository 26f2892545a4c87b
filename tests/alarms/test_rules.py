"""The rule engine: immediate and duration rules, clearing, repeats, cooldown, flapping,
grouping, per-site overrides, and the duration job driven by a hand-moved clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.alarms.rules import RuleBook
from hub.clock import ManualClock
from hub.errors import InvalidInput
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.jobs import evaluate_durations
from hub.workorders.enums import Priority
from tests.conftest import SITE
from tests.pipeline import alarms_of, register, send, sensor_orders

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def devices(db: Session, clock: ManualClock) -> dict[str, Device]:
    """One device of each kind, and a few corridor lights of building 3."""
    return register(
        db,
        clock,
        SITE,
        [
            ("leak-4-3", DeviceKind.leak, "4/3/pipe-well"),
            ("light-b3-f11", DeviceKind.light, "3/11"),
            ("light-b3-f12", DeviceKind.light, "3/12"),
            ("light-b3-f13", DeviceKind.light, "3/13"),
            ("light-b1-f02", DeviceKind.light, "1/2"),
            ("gate-garage", DeviceKind.gate, "garage/entrance"),
            ("restroom-2f-men", DeviceKind.restroom, "clubhouse/2/men"),
            ("restroom-2f-women", DeviceKind.restroom, "clubhouse/2/women"),
        ],
    )


def test_a_leak_raises_an_alarm_and_an_urgent_order_at_once(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    send(db, clock, devices["leak-4-3"], {"leak": True, "flow_lpm": 22})
    (alarm,) = alarms_of(db, "leak-4-3")
    assert (alarm.type, alarm.severity, alarm.raised_at) == (
        "leak_detected",
        "critical",
        clock.now(),
    )
    (order,) = sensor_orders(db, SITE)
    assert alarm.work_order_id == order.id
    assert (order.department, order.priority, order.device_id) == (
        "engineering",
        "urgent",
        "leak-4-3",
    )
    assert order.location is not None
    assert order.location.path == "4/3/pipe-well"


def test_repeats_count_on_one_alarm_and_one_order(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    for _ in range(3):
        send(db, clock, devices["leak-4-3"], {"leak": True})
        clock.advance(seconds=30)
    (alarm,) = alarms_of(db, "leak-4-3")
    assert alarm.last_seen_at == clock.now() - timedelta(seconds=30)
    assert len(sensor_orders(db, SITE)) == 1


def test_clearing_notes_the_order_and_keeps_it(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    send(db, clock, devices["leak-4-3"], {"leak": True})
    clock.advance(minutes=2)
    send(db, clock, devices["leak-4-3"], {"leak": False})
    clock.advance(minutes=2)
    send(db, clock, devices["leak-4-3"], {"leak": False})
    assert alarms_of(db, "leak-4-3") == []
    (alarm,) = alarms_of(db, "leak-4-3", open_only=False)
    assert alarm.cleared_at == clock.now()
    (order,) = sensor_orders(db, SITE)
    assert order.status == "open"
    assert order.condition_cleared_at == clock.now()
    assert order.history[-1].action == "condition_cleared"


def test_a_leak_clears_only_after_two_dry_minutes(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    leak = devices["leak-4-3"]
    send(db, clock, leak, {"leak": True})
    clock.advance(seconds=30)
    send(db, clock, leak, {"leak": False})
    clock.advance(seconds=90)
    send(db, clock, leak, {"leak": True})  # wet again inside the dry period: same alarm
    clock.advance(seconds=10)
    send(db, clock, leak, {"leak": False})
    clock.advance(seconds=119)
    send(db, clock, leak, {"leak": False})
    (alarm,) = alarms_of(db, leak.id)
    assert alarm.count == 2
    clock.advance(seconds=1)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 0
    assert alarms_of(db, leak.id) == []  # the job cleared it: no message had to come
    assert len(sensor_orders(db, SITE)) == 1


def test_lamp_failure_needs_sixty_seconds_by_message(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    light = devices["light-b3-f12"]
    send(db, clock, light, {"on": True, "power_w": 0.3})
    clock.advance(seconds=59)
    send(db, clock, light, {"on": True, "power_w": 0.2})
    assert alarms_of(db, light.id) == []
    clock.advance(seconds=1)
    send(db, clock, light, {"on": True, "power_w": 0.2})
    assert [a.type for a in alarms_of(db, light.id)] == ["lamp_failure"]


def test_lamp_failure_fires_from_the_job_when_no_message_follows(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    ctx = RuleContext()
    light = devices["light-b3-f12"]
    start = clock.now()
    send(db, clock, light, {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(seconds=30)
    assert evaluate_durations(session=db, ctx=ctx, now=clock.now()) == 0
    clock.advance(seconds=31)
    assert evaluate_durations(session=db, ctx=ctx, now=clock.now()) == 1
    (alarm,) = alarms_of(db, light.id)
    assert alarm.raised_at == start + timedelta(seconds=60)
    assert evaluate_durations(session=db, ctx=ctx, now=clock.now()) == 0


def test_a_lamp_that_is_switched_off_is_not_a_failure(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    light = devices["light-b3-f12"]
    send(db, clock, light, {"on": False, "power_w": 0.0})
    clock.advance(minutes=5)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 0
    assert alarms_of(db, light.id) == []


def test_lane_blocked_restarts_when_the_arm_moves(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    gate = devices["gate-garage"]
    send(db, clock, gate, {"arm": "down", "loop_occupied": True})
    clock.advance(minutes=4)
    send(db, clock, gate, {"arm": "up", "loop_occupied": True})  # a car let through
    clock.advance(minutes=2)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 0
    clock.advance(minutes=3, seconds=1)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 1
    (alarm,) = alarms_of(db, gate.id)
    assert alarm.type == "lane_blocked"
    (order,) = sensor_orders(db, SITE)
    assert order.department == "security"


def test_an_arm_left_up_for_ten_minutes_is_reported(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    gate = devices["gate-garage"]
    send(db, clock, gate, {"arm": "up", "loop_occupied": False})
    clock.advance(minutes=9, seconds=59)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 0
    clock.advance(seconds=1)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 1
    assert [a.type for a in alarms_of(db, gate.id)] == ["gate_stuck_open"]
    send(db, clock, gate, {"arm": "down", "loop_occupied": False})
    assert alarms_of(db, gate.id) == []


def test_hysteresis_keeps_a_refill_alarm_until_really_refilled(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    room = devices["restroom-2f-men"]
    send(db, clock, room, {"paper_pct": 5, "soap_pct": 80})
    send(db, clock, room, {"paper_pct": 45})
    assert [a.type for a in alarms_of(db, room.id)] == ["supplies_low"]
    send(db, clock, room, {"paper_pct": 51})
    assert alarms_of(db, room.id) == []


def test_an_empty_dispenser_is_high_priority_and_a_refill_clears_it(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    room = devices["restroom-2f-men"]
    send(db, clock, room, {"paper_pct": 0, "soap_pct": 70})
    assert sorted(a.type for a in alarms_of(db, room.id)) == ["supplies_empty", "supplies_low"]
    (order,) = sensor_orders(db, SITE)  # low and empty are one job for the cleaner
    assert (order.department, order.priority) == ("cleaning", "high")
    resolve = [d for d in order.deadlines if d.step == "resolve"][-1]
    assert resolve.due_at == clock.now() + timedelta(minutes=15)
    assert order.history[-1].action == "priority_raised"
    send(db, clock, room, {"type": "refilled", "item": "paper"}, channel="event")
    assert alarms_of(db, room.id) == []


def test_recurrence_within_cooldown_reopens_the_same_alarm_and_order(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    leak = devices["leak-4-3"]
    send(db, clock, leak, {"leak": True})
    clock.advance(minutes=1)
    send(db, clock, leak, {"leak": False})
    clock.advance(minutes=2)
    send(db, clock, leak, {"leak": False})
    clock.advance(minutes=5)
    send(db, clock, leak, {"leak": True})
    (alarm,) = alarms_of(db, leak.id, open_only=False)
    assert (alarm.reopen_count, alarm.count, alarm.cleared_at) == (1, 2, None)
    (order,) = sensor_orders(db, SITE)
    assert order.condition_cleared_at is None
    assert order.history[-1].action == "alarm_recurred"


def test_recurrence_after_cooldown_is_a_new_alarm_on_the_still_open_order(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    leak = devices["leak-4-3"]
    send(db, clock, leak, {"leak": True})
    clock.advance(minutes=1)
    send(db, clock, leak, {"leak": False})
    clock.advance(minutes=2)
    send(db, clock, leak, {"leak": False})
    clock.advance(hours=2)
    send(db, clock, leak, {"leak": True})
    first, second = alarms_of(db, leak.id, open_only=False)
    assert first.cleared_at is not None
    assert second.cleared_at is None
    (order,) = sensor_orders(db, SITE)
    assert first.work_order_id == second.work_order_id == order.id


def test_a_flapping_alarm_is_damped(
    db: Session, clock: ManualClock, devices: dict[str, Device], tmp_path: Path
) -> None:
    # Without its two dry minutes the leak rule would clear on every dry reading.
    path = tmp_path / "rules.toml"
    path.write_text("[defaults.leak.leak_detected]\nclear_for_s = 0\n", encoding="utf-8")
    ctx = RuleContext(rules=RuleBook.from_file(path))
    leak = devices["leak-4-3"]
    for _ in range(4):
        send(db, clock, leak, {"leak": True}, ctx=ctx)
        clock.advance(seconds=20)
        send(db, clock, leak, {"leak": False}, ctx=ctx)
        clock.advance(seconds=20)
    (alarm,) = alarms_of(db, leak.id, open_only=False)
    assert alarm.flapping
    assert alarm.cleared_at is None  # the last dry reading did not clear it
    assert len(sensor_orders(db, SITE)) == 1
    clock.advance(minutes=4)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    assert alarm.cleared_at is None
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    assert alarm.cleared_at is not None
    assert not alarm.flapping


def test_a_light_on_in_daylight_for_half_an_hour_is_an_alarm_without_an_order(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    light = devices["light-b3-f12"]
    send(db, clock, light, {"on": True, "power_w": 9, "lux": 800})
    clock.advance(minutes=29)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 0
    clock.advance(minutes=1)
    assert evaluate_durations(session=db, ctx=RuleContext(), now=clock.now()) == 1
    assert [a.type for a in alarms_of(db, light.id)] == ["light_waste"]
    assert sensor_orders(db, SITE) == []


def test_lights_of_one_building_share_one_order(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    for name in ("light-b3-f11", "light-b3-f12", "light-b3-f13", "light-b1-f02"):
        send(db, clock, devices[name], {"on": True, "power_w": 0.0})
    clock.advance(seconds=61)
    evaluate_durations(session=db, ctx=RuleContext(), now=clock.now())
    orders = sensor_orders(db, SITE)
    assert len(orders) == 2
    building3 = [
        a.work_order_id for n in ("11", "12", "13") for a in alarms_of(db, f"light-b3-f{n}")
    ]
    assert len(set(building3)) == 1
    (grouped,) = [o for o in orders if o.id == building3[0]]
    assert sum(e.action == "alarm_grouped" for e in grouped.history) == 2


def test_restrooms_on_one_floor_share_one_cleaning_order(
    db: Session, clock: ManualClock, devices: dict[str, Device]
) -> None:
    send(db, clock, devices["restroom-2f-men"], {"paper_pct": 0})
    send(db, clock, devices["restroom-2f-women"], {"paper_pct": 2})
    (order,) = sensor_orders(db, SITE)
    assert order.department == "cleaning"


def test_site_overrides_from_a_rules_file(
    db: Session, clock: ManualClock, devices: dict[str, Device], tmp_path: Path
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        f"""
[defaults.light.lamp_failure]
for_s = 600
[sites.{SITE}.light.lamp_failure]
for_s = 120
min_power_w = 5
priority = "urgent"
[sites.{SITE}.leak.battery_low]
enabled = false
""",
        encoding="utf-8",
    )
    ctx = RuleContext(rules=RuleBook.from_file(path))
    light = devices["light-b3-f12"]
    send(db, clock, light, {"on": True, "power_w": 3.0}, ctx=ctx)  # below the site's 5 W
    clock.advance(seconds=119)
    assert evaluate_durations(session=db, ctx=ctx, now=clock.now()) == 0
    clock.advance(seconds=1)
    assert evaluate_durations(session=db, ctx=ctx, now=clock.now()) == 1
    assert sensor_orders(db, SITE)[0].priority == Priority.urgent
    send(db, clock, devices["leak-4-3"], {"leak": False, "battery": 3}, ctx=ctx)
    assert alarms_of(db, "leak-4-3") == []
    assert ctx.rules.rule("elsewhere", "light", "lamp_failure").for_s == 600  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "[sites.x.toaster.burn]\nfor_s = 1",
        "[sites.x.light.dance]\nfor_s = 1",
        "[sites.x.light.lamp_failure]\nfor_s = 'long'",
        "[sites.x.light.lamp_failure]\npriority = 'whenever'",
        "[sites.x.light.lamp_failure]\nwattage = 3",
        "[sites.x.light.lamp_failure]\nfor_s = -1",
        "[elsewhere]\nx = 1",
    ],
)
def test_bad_rules_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput):
        RuleBook.from_file(path)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.integers(min_value=1, max_value=900)), min_size=1, max_size=25
    )
)
def test_any_reading_sequence_keeps_one_open_alarm_and_tracks_the_last_reading(
    db: Session, clock: ManualClock, devices: dict[str, Device], steps: list[tuple[bool, int]]
) -> None:
    leak = devices["leak-4-3"]
    nested = db.begin_nested()
    try:
        ctx = RuleContext()
        for leaking, gap in steps:
            clock.advance(seconds=gap)
            send(db, clock, leak, {"leak": leaking}, ctx=ctx)
        open_alarms = alarms_of(db, leak.id)
        assert len(open_alarms) <= 1
        if steps[-1][0]:
            assert len(open_alarms) == 1
        elif open_alarms:
            # Only the two dry minutes, or flap damping, may hold a dry sensor's alarm.
            assert open_alarms[0].clear_pending_since is not None
        orders = sensor_orders(db, SITE)
        assert len({o.id for o in orders if o.status == "open"}) <= 1
    finally:
        nested.rollback()
