"""The complaint workflow: every allowed move works and is recorded; every other one is 409."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.complaints import workflow
from hub.complaints.enums import CallbackOutcome, Kind, Party, ReplyPurpose, Responsibility, Status
from hub.complaints.workflow import MOVES
from hub.errors import Conflict, InvalidInput
from tests.complaints.helpers import POLICY, bring_to, file, move, prepared, reply

S = Status
ALLOWED_PAIRS = [(a, Status(b)) for a in Status for b in MOVES.targets(a)]
FORBIDDEN_PAIRS = [(a, b) for a in Status for b in Status if b not in set(MOVES.targets(a))]

pytestmark = pytest.mark.usefixtures("sites")


def test_the_workflow_is_the_trades() -> None:
    main = [
        S.received,
        S.verified,
        S.investigating,
        S.assigned,
        S.remedy_proposed,
        S.replied,
        S.implementing,
        S.resolved,
        S.callback,
        S.archived,
    ]
    for a, b in zip(main, main[1:], strict=False):
        assert b in set(MOVES.targets(a)), (a, b)
    assert S.remedy_proposed in set(MOVES.targets(S.replied))  # the owner rejects the remedy
    assert S.implementing in set(MOVES.targets(S.callback))  # not satisfied: reopen
    assert not set(MOVES.targets(S.archived))
    assert not set(MOVES.targets(S.withdrawn))


@pytest.mark.parametrize(("start", "to"), ALLOWED_PAIRS)
def test_every_allowed_move_is_recorded(
    db: Session, clock: ManualClock, start: Status, to: Status
) -> None:
    complaint = prepared(db, clock, start, to)
    clock.advance(minutes=1)
    move(db, clock, complaint, to, manager=True)
    assert complaint.status == to
    event = complaint.history[-1]
    assert (event.from_status, event.to_status, event.actor) == (start, to, "tester")
    assert event.at == clock.now()


@pytest.mark.parametrize(("start", "to"), FORBIDDEN_PAIRS)
def test_every_forbidden_move_is_a_conflict(
    db: Session, clock: ManualClock, start: Status, to: Status
) -> None:
    complaint = bring_to(db, clock, file(db, clock), start)
    events = len(complaint.history)
    with pytest.raises(Conflict) as err:
        workflow.transition(
            session=db,
            policy=POLICY,
            complaint=complaint,
            to=to,
            actor="tester",
            now=clock.now(),
            note="trying",
            assignee="eng-wang",
            outcome=CallbackOutcome.satisfied,
            role=Role.manager,
        )
    assert complaint.status == start
    assert err.value.details["allowed"] == sorted(set(MOVES.targets(start)))
    assert len(complaint.history) == events


def test_a_hold_resumes_where_it_was(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.on_hold, held_from=S.implementing)
    with pytest.raises(Conflict):
        move(db, clock, complaint, S.investigating)
    move(db, clock, complaint, S.implementing)
    assert complaint.hold_reason is None


def test_moves_that_need_a_reason(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.investigating)
    for to in (S.on_hold, S.withdrawn):
        with pytest.raises(InvalidInput):
            workflow.transition(
                session=db, policy=POLICY, complaint=complaint, to=to, actor="d", now=clock.now()
            )
    assert complaint.status == S.investigating


def test_assigning_needs_someone_responsible(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.investigating)
    with pytest.raises(InvalidInput):
        workflow.transition(
            session=db,
            policy=POLICY,
            complaint=complaint,
            to=S.assigned,
            actor="d",
            now=clock.now(),
        )


def test_the_owner_hears_the_remedy_before_it_counts_as_replied(
    db: Session, clock: ManualClock
) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.remedy_proposed)
    reply(db, clock, complaint, "我们正在查原因,明天上午给您方案。", purpose=ReplyPurpose.progress)
    with pytest.raises(Conflict):
        workflow.transition(
            session=db, policy=POLICY, complaint=complaint, to=S.replied, actor="d", now=clock.now()
        )
    reply(db, clock, complaint, "方案是今天下午三点前更换灯管,您看可以吗?")  # default: remedy
    workflow.transition(
        session=db, policy=POLICY, complaint=complaint, to=S.replied, actor="d", now=clock.now()
    )
    assert complaint.status == S.replied


def test_a_rejected_remedy_goes_back_with_alternatives(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.replied)
    with pytest.raises(InvalidInput):
        workflow.transition(
            session=db,
            policy=POLICY,
            complaint=complaint,
            to=S.remedy_proposed,
            actor="d",
            now=clock.now(),
        )
    move(db, clock, complaint, S.remedy_proposed)
    assert complaint.history[-1].action == "owner_rejected"
    # The old remedy does not count for the new round: tell the owner the alternative first.
    with pytest.raises(Conflict):
        workflow.transition(
            session=db, policy=POLICY, complaint=complaint, to=S.replied, actor="d", now=clock.now()
        )
    clock.advance(minutes=5)
    move(db, clock, complaint, S.replied)
    move(db, clock, complaint, S.implementing)
    assert complaint.history[-1].action == "owner_accepted"


def test_non_property_states_responsibility_first(db: Session, clock: ManualClock) -> None:
    complaint = file(db, clock, "刚交房半年客厅墙体就开裂了,裂缝越来越大,这是房屋质量问题。")
    assert (complaint.responsibility, complaint.party) == (
        Responsibility.non_property,
        Party.developer,
    )
    bring_to(db, clock, complaint, S.investigating)
    with pytest.raises(Conflict) as err:
        move(db, clock, complaint, S.assigned)
    assert "responsibility" in err.value.message
    reply(
        db,
        clock,
        complaint,
        "这属于开发商保修范围,我先跟您说明;我们会帮您联系开发商,并随时告诉您进展。",
        purpose=ReplyPurpose.responsibility,
    )
    assert complaint.responsibility_stated_at == clock.now()
    workflow.transition(
        session=db,
        policy=POLICY,
        complaint=complaint,
        to=S.assigned,
        actor="desk-li",
        now=clock.now(),
        assignee="开发商客服 developer's service desk",
    )
    # While the developer works on it the owner waits: the case is on hold, the clock paused.
    workflow.transition(
        session=db,
        policy=POLICY,
        complaint=complaint,
        to=S.on_hold,
        actor="desk-li",
        now=clock.now(),
        note="等开发商回复 waiting for the developer",
    )
    reply(db, clock, complaint, "开发商说周三上门查看,我周三下午再跟您确认。")
    assert complaint.replies[-1].purpose == ReplyPurpose.progress


def test_callback_records_the_outcome(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.resolved)
    with pytest.raises(InvalidInput):
        workflow.transition(
            session=db,
            policy=POLICY,
            complaint=complaint,
            to=S.callback,
            actor="d",
            now=clock.now(),
        )
    move(db, clock, complaint, S.callback, outcome=CallbackOutcome.satisfied)
    assert complaint.callback_outcome == CallbackOutcome.satisfied
    assert complaint.callback_at == clock.now()
    with pytest.raises(Conflict):  # satisfied: nothing to reopen
        move(db, clock, complaint, S.implementing)
    move(db, clock, complaint, S.archived)
    assert complaint.closed_at == clock.now()


def test_not_satisfied_reopens(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(
        db, clock, file(db, clock), S.callback, outcome=CallbackOutcome.not_satisfied
    )
    with pytest.raises(Conflict):  # the desk may not archive an unhappy owner's case
        move(db, clock, complaint, S.archived)
    move(db, clock, complaint, S.implementing)
    assert complaint.reopen_count == 1
    assert complaint.history[-1].action == "reopened"
    for step in (S.resolved, S.callback, S.archived):
        move(db, clock, complaint, step)
    assert complaint.status == S.archived


def test_a_manager_may_archive_an_unsatisfied_case_with_a_reason(
    db: Session, clock: ManualClock
) -> None:
    complaint = bring_to(
        db, clock, file(db, clock), S.callback, outcome=CallbackOutcome.not_satisfied
    )
    move(db, clock, complaint, S.archived, manager=True)
    assert complaint.status == S.archived


def test_inquiries_are_answered_and_archived_at_the_desk(db: Session, clock: ManualClock) -> None:
    complaint = file(db, clock, "我要投诉,你们叫经理来跟我说。")
    with pytest.raises(Conflict):
        move(db, clock, complaint, S.archived)
    inquiry = file(db, clock, "请问物业费可以用微信交吗?", kind=Kind.inquiry)
    move(db, clock, inquiry, S.archived)
    assert inquiry.status == S.archived


def test_an_unreasonable_complaint_is_explained_and_archived(
    db: Session, clock: ManualClock
) -> None:
    complaint = file(db, clock, "我家装修的垃圾你们物业必须免费帮我运走。")
    move(db, clock, complaint, S.verified)
    with pytest.raises(Conflict):
        move(db, clock, complaint, S.archived)
    complaint2 = file(db, clock, "我家装修的垃圾你们物业必须免费帮我运走。")
    workflow.transition(
        session=db,
        policy=POLICY,
        complaint=complaint2,
        to=S.verified,
        actor="desk-li",
        now=clock.now(),
        reasonable=False,
    )
    workflow.transition(
        session=db,
        policy=POLICY,
        complaint=complaint2,
        to=S.archived,
        actor="desk-li",
        now=clock.now(),
        note="已向业主说明装修垃圾清运属有偿服务及收费标准",
    )
    assert complaint2.status == S.archived


def test_replies_stop_at_the_archive(db: Session, clock: ManualClock) -> None:
    complaint = bring_to(db, clock, file(db, clock), S.archived)
    with pytest.raises(Conflict):
        reply(db, clock, complaint)
