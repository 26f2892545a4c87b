"""Per-step deadlines of the complaint workflow: registration, callback, holds, breaches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hub.cases import watchdog
from hub.cases.deadlines import effective_due
from hub.clock import ManualClock
from hub.complaints.enums import CallbackOutcome, Status, Step
from hub.complaints.models import Complaint, ComplaintDeadline
from hub.complaints.policy import DEFAULT_STEP_MINUTES, ComplaintPolicy
from hub.complaints.workflow import CASES
from hub.errors import InvalidInput
from tests.complaints.helpers import bring_to, file, move

S = Status
pytestmark = pytest.mark.usefixtures("sites")


def due(complaint: Complaint, step: Step) -> ComplaintDeadline:
    """The latest deadline of `step`."""
    return [d for d in complaint.deadlines if d.step == step][-1]


def test_registration_is_due_within_a_minute_of_receipt(db: Session, clock: ManualClock) -> None:
    on_time = file(db, clock, received_at=clock.now() - timedelta(seconds=40))
    assert due(on_time, Step.registered).due_at == clock.now() + timedelta(seconds=20)
    assert due(on_time, Step.registered).met_at == clock.now()
    assert due(on_time, Step.registered).breached_at is None
    late = file(db, clock, received_at=clock.now() - timedelta(minutes=10))
    assert due(late, Step.registered).breached_at == due(late, Step.registered).due_at
    assert late.escalation_level == 1
    assert [e.action for e in late.history].count("sla_breach") == 1


def test_received_at_in_the_future_is_refused(db: Session, clock: ManualClock) -> None:
    with pytest.raises(InvalidInput):
        file(db, clock, received_at=clock.now() + timedelta(hours=1))


def test_each_step_starts_the_next_clock(db: Session, clock: ManualClock) -> None:
    complaint = file(db, clock)
    assert due(complaint, Step.verified).due_at == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=10)
    move(db, clock, complaint, S.verified)
    assert due(complaint, Step.verified).met_at == clock.now()
    assert due(complaint, Step.investigating).due_at == clock.now() + timedelta(minutes=60)


def test_callback_is_due_two_hours_after_resolution(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.resolved)
    assert due(complaint, Step.callback).due_at == clock.now() + timedelta(hours=2)
    clock.advance(hours=3)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == [complaint]
    assert due(complaint, Step.callback).breached_at is not None


def test_step_minutes_are_configurable(db: Session, clock: ManualClock) -> None:
    policy = ComplaintPolicy.build(step_overrides={"verified": 15})
    complaint = file(db, clock, policy=policy)
    assert due(complaint, Step.verified).due_at == clock.now() + timedelta(minutes=15)
    assert policy.allowed(Step.callback) == timedelta(minutes=DEFAULT_STEP_MINUTES[Step.callback])
    with pytest.raises(InvalidInput):
        ComplaintPolicy.build(step_overrides={"verify": 15})
    with pytest.raises(InvalidInput):
        ComplaintPolicy.build(step_overrides={"verified": 0})


def test_watchdog_flags_once_and_raises_the_level(db: Session, clock: ManualClock) -> None:
    complaint = file(db, clock)
    clock.advance(minutes=31)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == [complaint]
    assert due(complaint, Step.verified).breached_at == due(complaint, Step.verified).due_at
    assert complaint.escalation_level == 1
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []
    move(db, clock, complaint, S.verified)  # late, but already flagged: no second breach
    assert complaint.escalation_level == 1


def test_reaching_a_step_late_flags_it(db: Session, clock: ManualClock) -> None:
    complaint = file(db, clock)
    clock.advance(minutes=45)
    move(db, clock, complaint, S.verified)
    assert due(complaint, Step.verified).breached_at is not None
    assert complaint.history[-2].action == "sla_breach"


def test_hold_time_is_excluded(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.implementing)
    resolve_due = due(complaint, Step.resolved).due_at
    move(db, clock, complaint, S.on_hold)  # waiting for lamps: the monthly purchase is late
    clock.advance(days=5)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []
    move(db, clock, complaint, S.implementing)
    assert due(complaint, Step.resolved).due_at == resolve_due + timedelta(days=5)
    assert complaint.hold_total_s == 5 * 86400
    assert due(complaint, Step.resolved).breached_at is None


def test_the_view_shows_a_held_deadline_paused(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.implementing)
    deadline = due(complaint, Step.resolved)
    move(db, clock, complaint, S.on_hold)
    clock.advance(hours=6)
    assert effective_due(
        deadline, hold_started_at=complaint.hold_started_at, now=clock.now()
    ) == deadline.due_at + timedelta(hours=6)


def test_a_reopening_starts_a_new_cycle(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(
        db, clock, file(db, clock), S.callback, outcome=CallbackOutcome.not_satisfied
    )
    clock.advance(minutes=10)
    move(db, clock, complaint, S.implementing)
    fresh = [d for d in complaint.deadlines if d.cycle == 1]
    assert [d.step for d in fresh] == [Step.resolved]
    assert due(complaint, Step.archived).met_at == clock.now()  # the old cycle is closed
    clock.advance(days=2)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == [complaint]
    assert all(d.breached_at is None for d in complaint.deadlines if d.cycle == 0)


def test_closed_cases_are_not_watched(db: Session, clock: ManualClock) -> None:
    archived = bring_to(db, clock, file(db, clock), S.archived)
    withdrawn = bring_to(db, clock, file(db, clock), S.withdrawn)
    clock.advance(days=30)
    assert watchdog.flag_breaches(session=db, kind=CASES, now=clock.now()) == []
    assert all(d.breached_at is None for d in archived.deadlines)
    assert withdrawn.closed_at is not None
