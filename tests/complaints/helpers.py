"""Helpers to file complaints and bring them to any workflow state through allowed moves."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.complaints import intake, replies, workflow
from hub.complaints.enums import CallbackOutcome, Channel, Kind, ReplyPurpose, Status
from hub.complaints.models import Complaint
from hub.complaints.policy import ComplaintPolicy

S = Status
POLICY = ComplaintPolicy()
SITE = "sunshine-garden"

MAIN_PATH = [
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


def path_to(target: Status, *, held_from: Status = S.investigating) -> list[Status]:
    """The moves from `received` to `target` (on_hold via `held_from`)."""
    if target == S.received:
        return []
    if target == S.on_hold:
        return [*path_to(held_from), S.on_hold]
    if target == S.withdrawn:
        return [S.withdrawn]
    return MAIN_PATH[: MAIN_PATH.index(target) + 1]


def file(
    db: Session,
    clock: ManualClock,
    content: str = "3号楼12层走廊灯坏了好几天了,晚上回家很黑",
    *,
    policy: ComplaintPolicy = POLICY,
    actor: str = "desk-li",
    **fields: object,
) -> Complaint:
    """A complaint registered now by the desk."""
    entry = intake.Intake(site_id=str(fields.pop("site_id", SITE)), content=content)
    for name, value in fields.items():
        setattr(entry, name, value)
    return intake.register(
        session=db, policy=policy, intake=entry, actor=actor, actor_id=None, now=clock.now()
    )


def reply(
    db: Session,
    clock: ManualClock,
    complaint: Complaint,
    text: str = "很抱歉给您带来不便,我们今天下午五点前派师傅更换灯管。",
    purpose: ReplyPurpose | None = None,
    policy: ComplaintPolicy = POLICY,
) -> replies.ReplyOutcome:
    """Record a reply by the desk."""
    return replies.record_reply(
        session=db,
        policy=policy,
        complaint=complaint,
        text=text,
        channel=Channel.phone,
        purpose=purpose,
        actor="desk-li",
        now=clock.now(),
    )


def move(
    db: Session,
    clock: ManualClock,
    complaint: Complaint,
    to: Status,
    *,
    outcome: CallbackOutcome = CallbackOutcome.satisfied,
    policy: ComplaintPolicy = POLICY,
    manager: bool = False,
) -> None:
    """One move with whatever that move needs (note, assignee, a recorded remedy, outcome)."""
    if to == S.replied:
        reply(db, clock, complaint, purpose=ReplyPurpose.remedy)
    workflow.transition(
        session=db,
        policy=policy,
        complaint=complaint,
        to=to,
        actor="tester",
        now=clock.now(),
        note=f"moving to {to}",
        assignee="工程部 eng-wang" if to == S.assigned else None,
        outcome=outcome if to == S.callback else None,
        role=Role.manager if manager else Role.front_desk,
    )


def bring_to(
    db: Session,
    clock: ManualClock,
    complaint: Complaint,
    target: Status,
    *,
    held_from: Status = S.investigating,
    outcome: CallbackOutcome = CallbackOutcome.satisfied,
    policy: ComplaintPolicy = POLICY,
) -> Complaint:
    """Walk `complaint` along allowed moves until it is in `target`."""
    for step in path_to(target, held_from=held_from):
        clock.advance(seconds=30)
        move(db, clock, complaint, step, outcome=outcome, policy=policy)
    assert complaint.status == target
    return complaint


def prepared(db: Session, clock: ManualClock, start: Status, to: Status) -> Complaint:
    """A complaint in `start`, set up so that the move to `to` meets the case's own rules."""
    if start == S.received and to == S.archived:
        return file(db, clock, "请问物业费可以用微信交吗?", kind=Kind.inquiry)
    complaint = file(db, clock)
    if start == S.verified and to == S.archived:
        complaint.reasonable = False
    held_from = to if start == S.on_hold and to != S.withdrawn else S.investigating
    outcome = (
        CallbackOutcome.not_satisfied
        if start == S.callback and to != S.archived
        else CallbackOutcome.satisfied
    )
    return bring_to(db, clock, complaint, start, held_from=held_from, outcome=outcome)
