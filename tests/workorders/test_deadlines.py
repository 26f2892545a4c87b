"""Per-step deadlines from the policy table; hold time excluded; breaches flagged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hub.cases import watchdog
from hub.clock import ManualClock
from hub.errors import InvalidInput
from hub.workorders import service
from hub.workorders.enums import Department, Priority, Status, Step
from hub.workorders.models import Deadline, WorkOrder
from hub.workorders.policy import SlaPolicy
from hub.workorders.service import CASES
from tests.workorders.helpers import bring_to, move, new_order

S = Status
POLICY = SlaPolicy()
pytestmark = pytest.mark.usefixtures("sites")


def due(order: WorkOrder, step: Step) -> Deadline:
    """The current cycle's deadline of `step`."""
    return [d for d in order.deadlines if d.step == step][-1]


def test_urgent_repair_is_due_on_site_within_five_minutes(db: Session, clock: ManualClock) -> None:
    start = clock.now()
    order = new_order(db, clock, POLICY, priority=Priority.urgent)
    assert due(order, Step.dispatch).due_at == start + timedelta(minutes=1)
    assert due(order, Step.on_site).due_at == start + timedelta(minutes=5)
    assert {d.step for d in order.deadlines} == {Step.dispatch, Step.on_site, Step.resolve}


def test_callback_is_due_two_hours_after_resolution(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.resolved)
    assert due(order, Step.callback).due_at == clock.now() + timedelta(hours=2)


@pytest.mark.parametrize(
    ("department", "priority", "resolve_minutes"),
    [
        (Department.cleaning, Priority.high, 15),
        (Department.cleaning, Priority.normal, 30),
        (Department.engineering, Priority.normal, 1440),
        (Department.security, Priority.urgent, 30),
    ],
)
def test_policy_is_per_department_and_priority(
    db: Session,
    clock: ManualClock,
    department: Department,
    priority: Priority,
    resolve_minutes: int,
) -> None:
    order = new_order(db, clock, POLICY, department=department, priority=priority)
    assert due(order, Step.resolve).due_at - clock.now() == timedelta(minutes=resolve_minutes)


def test_overrides_replace_single_steps() -> None:
    policy = SlaPolicy({"engineering": {"urgent": {"on_site": 3}}})
    minutes = policy.minutes("engineering", "urgent")
    assert (minutes.on_site, minutes.dispatch) == (3, 1)
    assert policy.minutes("cleaning", "urgent").on_site == 5
    with pytest.raises(InvalidInput):
        SlaPolicy({"plumbing": {"urgent": {"on_site": 3}}})
    with pytest.raises(InvalidInput):
        SlaPolicy({"engineering": {"urgent": {"arrive": 3}}})


def test_hold_time_is_excluded(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.on_site)
    resolve_due = due(order, Step.resolve).due_at
    move(db, clock, POLICY, order, S.on_hold)
    clock.advance(days=3)  # parts arrive three days later: far past the 4-hour resolve
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []
    move(db, clock, POLICY, order, S.on_site)
    assert due(order, Step.resolve).due_at == resolve_due + timedelta(days=3)
    assert due(order, Step.resolve).breached_at is None


def test_watchdog_flags_breaches_once_and_escalates(db: Session, clock: ManualClock) -> None:
    order = new_order(db, clock, POLICY, priority=Priority.urgent)
    clock.advance(minutes=2)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == [order]
    assert due(order, Step.dispatch).breached_at == due(order, Step.dispatch).due_at
    assert order.escalation_level == 1
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []
    clock.advance(minutes=4)
    watchdog.flag_breaches(session=db, kind=CASES, now=clock.now())
    assert due(order, Step.on_site).breached_at is not None
    assert order.escalation_level == 2
    assert [e.action for e in order.history].count("sla_breach") == 2


def test_meeting_a_deadline_late_flags_it(db: Session, clock: ManualClock) -> None:
    order = new_order(db, clock, POLICY, priority=Priority.urgent)
    clock.advance(minutes=3)
    move(db, clock, POLICY, order, S.dispatched)
    assert due(order, Step.dispatch).met_at == clock.now()
    assert due(order, Step.dispatch).breached_at is not None
    assert due(order, Step.on_site).breached_at is None


def test_met_deadlines_are_never_breached(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.closed)
    clock.advance(days=30)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []
    assert all(d.breached_at is None for d in order.deadlines)


def test_reopening_starts_a_new_cycle(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.callback)
    clock.advance(minutes=10)
    move(db, clock, POLICY, order, S.dispatched)
    fresh = [d for d in order.deadlines if d.cycle == 1]
    assert {d.step for d in fresh} == {Step.on_site, Step.resolve}
    assert due(order, Step.on_site).due_at == clock.now() + timedelta(minutes=5)
    clock.advance(days=1)
    flagged = watchdog.flag_breaches(session=db, kind=CASES, now=clock.now())
    assert flagged == [order]
    assert all(d.breached_at is None for d in order.deadlines if d.cycle == 0)


def test_cancelled_orders_are_not_watched(db: Session, clock: ManualClock) -> None:
    bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.cancelled)
    clock.advance(days=1)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []


def test_raising_priority_tightens_pending_deadlines_only(db: Session, clock: ManualClock) -> None:
    start = clock.now()
    order = new_order(db, clock, POLICY, priority=Priority.normal)
    clock.advance(minutes=1)
    move(db, clock, POLICY, order, S.dispatched)
    assert service.raise_priority(
        session=db, policy=POLICY, order=order, priority=Priority.urgent, actor="t", now=clock.now()
    )
    assert order.priority == Priority.urgent
    assert due(order, Step.on_site).due_at == start + timedelta(minutes=5)
    assert due(order, Step.dispatch).due_at == start + timedelta(minutes=15)  # met: unchanged
    assert order.history[-1].action == "priority_raised"
    assert not service.raise_priority(
        session=db, policy=POLICY, order=order, priority=Priority.low, actor="t", now=clock.now()
    )
    assert order.priority == Priority.urgent
