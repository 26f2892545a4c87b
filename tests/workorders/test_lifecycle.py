"""The work-order state machine: every allowed move works, every other one is refused."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.errors import Conflict, InvalidInput
from hub.workorders import service
from hub.workorders.enums import Status
from hub.workorders.policy import SlaPolicy
from hub.workorders.service import MOVES
from tests.workorders.helpers import bring_to, move, new_order

S = Status
ALLOWED_PAIRS = [(a, Status(b)) for a in Status for b in MOVES.targets(a)]
FORBIDDEN_PAIRS = [(a, b) for a in Status for b in Status if b not in set(MOVES.targets(a))]
POLICY = SlaPolicy()

pytestmark = pytest.mark.usefixtures("sites")


def test_the_lifecycle_matches_the_contract() -> None:
    assert set(MOVES.targets(S.open)) == {S.dispatched, S.cancelled}
    assert set(MOVES.targets(S.callback)) == {S.closed, S.dispatched}
    assert not set(MOVES.targets(S.closed))
    assert not set(MOVES.targets(S.cancelled))
    assert S.cancelled in set(MOVES.targets(S.on_hold))
    assert S.on_hold in set(MOVES.targets(S.dispatched))
    assert S.on_hold in set(MOVES.targets(S.on_site))


@pytest.mark.parametrize(("start", "to"), ALLOWED_PAIRS)
def test_every_allowed_move_is_recorded(
    db: Session, clock: ManualClock, start: Status, to: Status
) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), start)
    events_before = len(order.history)
    clock.advance(minutes=1)
    move(db, clock, POLICY, order, to)
    assert order.status == to
    event = order.history[-1]
    assert (event.from_status, event.to_status, event.actor) == (start, to, "tester")
    assert event.at == clock.now()
    assert len(order.history) == events_before + 1


@pytest.mark.parametrize(("start", "to"), FORBIDDEN_PAIRS)
def test_every_forbidden_move_is_a_conflict(
    db: Session, clock: ManualClock, start: Status, to: Status
) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), start)
    with pytest.raises(Conflict) as err:
        move(db, clock, POLICY, order, to)
    assert order.status == start
    assert err.value.details["allowed"] == sorted(set(MOVES.targets(start)))


def test_hold_needs_a_reason_and_resumes(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.on_site)
    with pytest.raises(InvalidInput):
        service.transition(
            session=db, policy=POLICY, order=order, to=S.on_hold, actor="eng", now=clock.now()
        )
    service.transition(
        session=db,
        policy=POLICY,
        order=order,
        to=S.on_hold,
        actor="eng",
        now=clock.now(),
        note="等灯管到货 waiting for lamps (monthly purchase late)",
    )
    assert order.held_from == S.on_site
    assert order.hold_reason
    assert "lamps" in order.hold_reason
    clock.advance(hours=2)
    move(db, clock, POLICY, order, S.on_site)
    assert order.hold_reason is None
    assert order.hold_total_s == 7200


def test_dispatch_needs_an_assignee(db: Session, clock: ManualClock) -> None:
    order = new_order(db, clock, POLICY)
    with pytest.raises(InvalidInput):
        service.transition(
            session=db, policy=POLICY, order=order, to=S.dispatched, actor="desk", now=clock.now()
        )
    assert order.status == S.open


def test_a_failed_callback_reopens_and_counts(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.callback)
    with pytest.raises(InvalidInput):
        service.transition(
            session=db, policy=POLICY, order=order, to=S.dispatched, actor="desk", now=clock.now()
        )
    move(db, clock, POLICY, order, S.dispatched)
    assert order.reopen_count == 1
    assert order.history[-1].action == "reopened"
    for step in (S.on_site, S.resolved, S.callback):  # the second visit, same path
        move(db, clock, POLICY, order, step)
    move(db, clock, POLICY, order, S.dispatched)
    assert order.reopen_count == 2


def test_terminal_states_stamp_closed_at(db: Session, clock: ManualClock) -> None:
    order = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.closed)
    assert order.closed_at == clock.now()
    cancelled = bring_to(db, clock, POLICY, new_order(db, clock, POLICY), S.cancelled)
    assert cancelled.closed_at == clock.now()
