"""Correlation across the desk, the sensors and the orders, both ways.

- At intake (`correlate_complaint`): find what explains the complaint, keep the links, and
  attach it to its known issue: the order already on it, so no second order is opened.
- After a commit (`react`): an alarm raised after a complaint links back to it, and
  attaches it, or merges the sensor's new order into the one the complaint opened; an order
  opened on a shared part puts up a notice. `react` takes the committed facts (ids), so the
  bridge can hand it each batch's raised alarms and opened orders once it commits; until
  then the scheduler's `correlation_watch` job finds them (`hub.correlation.jobs`).
- What a move of an order sets off (its notice down, the attached complaints' callbacks
  due) is no business of this module: every move runs the reactions registered on the
  session (`hub.workorders.reactions`, wired in `hub.wiring`), the merge's included.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.cases.service import remark
from hub.complaints import flows as desk
from hub.complaints.models import Complaint
from hub.complaints.policy import ComplaintPolicy
from hub.complaints.workflow import TERMINAL as COMPLAINT_TERMINAL
from hub.correlation import service
from hub.correlation import weights as w
from hub.correlation.candidates import (
    Placed,
    alarm_candidate,
    complaints_between,
    gather,
    order_candidates,
    where_of,
)
from hub.correlation.enums import Found
from hub.correlation.models import CorrelationLink, Reaction
from hub.correlation.scoring import Scored, known_issue, rank, score
from hub.notices import flows as notices
from hub.registry.models import Device
from hub.settings import Settings
from hub.workorders import service as orders
from hub.workorders.enums import Source, Status
from hub.workorders.models import WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy

logger = logging.getLogger(__name__)

ACTOR = "correlation"


@dataclass(frozen=True)
class Policies:
    """What the reactions need: the SLA policy (orders) and the desk's (callbacks)."""

    sla: SlaPolicy = field(default_factory=SlaPolicy)
    complaints: ComplaintPolicy = field(default_factory=ComplaintPolicy)

    @property
    def zone(self) -> tzinfo:
        """The local time zone of the texts people read."""
        return self.complaints.zone

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        """The configured policies."""
        return cls(SlaPolicy.from_settings(settings), ComplaintPolicy.from_settings(settings))


@dataclass(frozen=True)
class Correlation:
    """What intake found: the links, best first, and the known issue (if any); the links as
    recorded, and the order the complaint was attached to (the desk's view is built of them)."""

    links: list[Scored]
    known: Scored | None
    recorded: list[CorrelationLink] = field(default_factory=list)
    attached_to: WorkOrder | None = None


def _why(scored: Scored) -> str:
    return f"known issue (score {scored.score:.2f}): {'; '.join(scored.reasons)}"


def _attach(
    session: Session,
    complaint: Complaint,
    scored: Scored,
    links: dict[tuple[str, int], CorrelationLink],
    now: datetime,
) -> bool:
    """Attach the complaint to the order as its known issue (once: it keeps the first)."""
    if service.attached(session=session, complaint_id=complaint.id) is not None:
        return False
    order = session.get(WorkOrder, scored.candidate.id)
    if order is None:
        return False
    desk.attach_to_order(
        session=session, complaint=complaint, order=order, actor=ACTOR, now=now, why=_why(scored)
    )
    links[(str(scored.candidate.type), scored.candidate.id)].attached = True
    session.flush()
    return True


def correlate_complaint(
    *, session: Session, complaint: Complaint, policies: Policies, now: datetime
) -> Correlation:
    """Find what explains a just-registered complaint; attach it to its known issue."""
    where = where_of(complaint)
    scored = [s for c in gather(session, where) if (s := score(where, c, zone=policies.zone))]
    ranked = rank(scored)
    known = known_issue(ranked)
    links = service.record(
        session=session, complaint_id=complaint.id, scored=ranked, found=Found.intake, now=now
    )
    order = None
    if known is not None and _attach(session, complaint, known, links, now):
        order = session.get(WorkOrder, known.candidate.id)
    logger.info(
        "complaint %s: %d link(s), known issue %s",
        complaint.id,
        len(ranked),
        known.candidate.id if known else None,
    )
    recorded = sorted(links.values(), key=lambda link: (-link.score, link.id))
    return Correlation(ranked, known, recorded, order)


@dataclass(frozen=True)
class Committed:
    """What a committed transaction did that the desk reacts to (ids, read afresh)."""

    raised_alarm_ids: Sequence[int] = ()
    opened_order_ids: Sequence[int] = ()


@dataclass
class Reacted:
    """What the reactions did."""

    notices: int = 0
    links: int = 0
    attached: int = 0
    merged: int = 0


def _first_time(session: Session, subject: str, subject_id: int, now: datetime) -> bool:
    """Mark the fact handled; False if it already was (a sweep and a sink may both see it)."""
    if session.get(Reaction, (subject, subject_id)) is not None:
        return False
    session.add(Reaction(subject=subject, subject_id=subject_id, at=now))
    return True


def react(*, session: Session, facts: Committed, policies: Policies, now: datetime) -> Reacted:
    """React to committed facts: notices for orders, complaints linked back from alarms."""
    done = Reacted()
    # Alarms first: a sensor order folded into a complaint's order gets no notice.
    for alarm_id in sorted(set(facts.raised_alarm_ids)):
        alarm = session.get(Alarm, alarm_id)
        if alarm is not None and _first_time(session, "alarm", alarm_id, now):
            on_alarm_raised(session=session, alarm=alarm, policies=policies, now=now, done=done)
    for order_id in sorted(set(facts.opened_order_ids)):
        if _first_time(session, "order", order_id, now):
            posted = notices.on_orders_opened(session=session, order_ids=[order_id], now=now)
            done.notices += len(posted)
    session.flush()
    return done


def _recent_complaints(session: Session, alarm: Alarm) -> list[Complaint]:
    """Complaints of the alarm's site received in the day before it, still open."""
    query = complaints_between(
        alarm.site_id, alarm.raised_at - w.ALARM_AFTER_WINDOW, alarm.raised_at
    )
    return [c for c in session.scalars(query) if c.status not in COMPLAINT_TERMINAL]


def on_alarm_raised(
    *, session: Session, alarm: Alarm, policies: Policies, now: datetime, done: Reacted
) -> None:
    """An alarm after complaints: link back the complaints it explains, grow its order's notice."""
    order = session.get(WorkOrder, alarm.work_order_id) if alarm.work_order_id else None
    device = session.get(Device, alarm.device_id)
    placed = None
    if device is not None:
        placed = Placed(device.kind, device.location.path if device.location else None)
    candidate = alarm_candidate(alarm, placed)
    ocand = order_candidates(session, [order])[0] if order is not None else None
    for complaint in _recent_complaints(session, alarm):
        where = where_of(complaint)
        found = score(where, candidate, zone=policies.zone)
        if found is None or found.score < w.LINK_THRESHOLD:
            continue
        scored = [found]
        if ocand is not None and (of := score(where, ocand, zone=policies.zone)) is not None:
            scored.append(of)
        links = service.record(
            session=session, complaint_id=complaint.id, scored=scored, found=Found.alarm, now=now
        )
        done.links += len(scored)
        best = known_issue(rank(scored))
        if best is None or order is None or order.status == Status.cancelled:
            continue
        if _merge_into_complaints_order(session, complaint, alarm, order, policies, now):
            done.merged += 1
        elif desk.linked_active_order(session=session, complaint=complaint) is None and _attach(
            session, complaint, best, links, now
        ):
            done.attached += 1
    if order is not None:
        notices.on_order_opened(session=session, order=order, now=now)


def _merge_into_complaints_order(
    session: Session,
    complaint: Complaint,
    alarm: Alarm,
    order: WorkOrder,
    policies: Policies,
    now: datetime,
) -> bool:
    """The complaint came first and has its order: the sensor's new order joins it.

    Only a sensor order nobody has started (open, this alarm alone) is folded in: the alarm
    moves to the complaint's order and the sensor's is cancelled as its duplicate.
    """
    own = desk.linked_active_order(session=session, complaint=complaint)
    if own is None or own.id == order.id or own.source == Source.sensor:
        return False
    if order.source != Source.sensor or order.status != Status.open:
        return False
    others = session.scalar(
        select(func.count()).where(Alarm.work_order_id == order.id, Alarm.id != alarm.id)
    )
    if others:
        return False
    alarm.work_order_id = own.id
    remark(
        own,
        WorkOrderEvent,
        action="alarm_joined",
        actor=ACTOR,
        at=now,
        note=f"alarm {alarm.id} ({alarm.type}) on {alarm.device_id} confirms complaint "
        f"{complaint.id}; its order {order.id} was folded in",
    )
    orders.transition(
        session=session,
        policy=policies.sla,
        order=order,
        to=Status.cancelled,
        actor=ACTOR,
        now=now,
        note=f"duplicate of work order {own.id}, opened from complaint {complaint.id} first",
    )
    logger.info("work order %s folded into %s (complaint %s)", order.id, own.id, complaint.id)
    return True
