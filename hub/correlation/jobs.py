"""The desk's timed work: the reactions to what committed, and the first response for leaks.

`watch` finds the alarms raised and the sensor orders opened that no reaction has handled
yet, reading committed rows, and hands them to `flows.react`; the same facts handed over
by an after-commit sink would be skipped here, already marked.

`raise_shutoffs` is case 4 of DOMAIN.md: a burst pipe with no technician free — send
someone to shut the water first. A leak order still not dispatched when its dispatch
deadline passes gets a shut-off task for the site's security on duty (or, with none, any
staff), tracked on the order.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.auth.enums import Role
from hub.auth.models import User, UserSite
from hub.cases.service import remark
from hub.complaints.models import Complaint, ComplaintWorkOrder
from hub.correlation.flows import ACTOR, Committed, Policies, Reacted, react
from hub.correlation.models import FirstResponse, Reaction
from hub.localtime import shown
from hub.registry.places import place_text
from hub.workorders import service as orders
from hub.workorders.enums import Department, Priority, Source, Status, Step
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy

logger = logging.getLogger(__name__)

LOOKBACK = timedelta(days=1)
"""How far back the watch looks for facts nobody reacted to (an outage of the scheduler)."""
MAX_FACTS = 500

LEAK = "leak_detected"
DUTY_ORDER = (Role.security, Role.engineer, Role.cleaner, Role.front_desk, Role.manager)
"""Who goes to shut the water off: security on duty first, then any staff."""


def unreacted_alarms(since: datetime) -> Select[int]:
    """Alarms raised since `since` that no reaction has handled (by `ix_alarms_raised_at`)."""
    return (
        select(Alarm.id)
        .where(
            Alarm.raised_at >= since,
            or_(Alarm.cleared_at.is_(None), Alarm.cleared_at >= since),
            ~exists().where(Reaction.subject == "alarm", Reaction.subject_id == Alarm.id),
        )
        .order_by(Alarm.raised_at, Alarm.id)
        .limit(MAX_FACTS)
    )


def unreacted_orders(since: datetime) -> Select[int]:
    """Sensor orders opened since `since` that no reaction has handled."""
    return (
        select(WorkOrder.id)
        .where(
            WorkOrder.created_at >= since,
            WorkOrder.source == Source.sensor,
            ~exists().where(Reaction.subject == "order", Reaction.subject_id == WorkOrder.id),
        )
        .order_by(WorkOrder.created_at, WorkOrder.id)
        .limit(MAX_FACTS)
    )


def pending_facts(*, session: Session, now: datetime) -> Committed:
    """Alarms raised and sensor orders opened that no reaction has handled yet."""
    since = now - LOOKBACK
    alarms = session.scalars(unreacted_alarms(since)).all()
    opened = session.scalars(unreacted_orders(since)).all()
    return Committed(raised_alarm_ids=list(alarms), opened_order_ids=list(opened))


def watch(*, session: Session, policies: Policies, now: datetime) -> Reacted:
    """React to what committed since the last run; raise the shut-off tasks that are due."""
    done = react(
        session=session, facts=pending_facts(session=session, now=now), policies=policies, now=now
    )
    raise_shutoffs(session=session, policy=policies.sla, now=now)
    return done


def _is_leak(session: Session, order: WorkOrder) -> bool:
    """A leak order: a leak alarm on it, or an emergency leak complaint it was opened for."""
    if session.scalar(
        select(Alarm.id).where(Alarm.work_order_id == order.id, Alarm.type == LEAK).limit(1)
    ):
        return True
    kinds = session.scalars(
        select(Complaint.device_kinds)
        .join(ComplaintWorkOrder, ComplaintWorkOrder.complaint_id == Complaint.id)
        .where(ComplaintWorkOrder.work_order_id == order.id, Complaint.category == "emergency")
    ).all()
    return any("leak" in k for k in kinds)


def _unit_typed(session: Session, order: WorkOrder) -> str | None:
    """The unit as typed on the order's complaints, when the registry does not know it."""
    return session.scalar(
        select(Complaint.unit_text)
        .join(ComplaintWorkOrder, ComplaintWorkOrder.complaint_id == Complaint.id)
        .where(
            ComplaintWorkOrder.work_order_id == order.id,
            Complaint.unit_text.is_not(None),
            Complaint.unit_id.is_(None),
        )
        .order_by(Complaint.id)
        .limit(1)
    )


def on_duty(*, session: Session, site_id: str) -> str | None:
    """Who to send: the site's security first, else any staff (no roster: first by name)."""
    rows = session.execute(
        select(User.name, User.role)
        .join(UserSite, UserSite.user_id == User.id)
        .where(UserSite.site_id == site_id, User.active.is_(True))
        .order_by(User.name)
    ).all()
    for role in DUTY_ORDER:
        for name, user_role in rows:
            if user_role == role:
                return str(name)
    return None


def _overdue_undispatched(session: Session, now: datetime) -> list[WorkOrder]:
    """Orders still open whose dispatch deadline has passed and that have no shut-off task."""
    return list(
        session.scalars(
            select(WorkOrder)
            .join(Deadline, Deadline.work_order_id == WorkOrder.id)
            .where(
                WorkOrder.status == Status.open,
                Deadline.step == Step.dispatch,
                Deadline.cycle == WorkOrder.reopen_count,
                Deadline.met_at.is_(None),
                Deadline.due_at <= now,
                ~exists().where(FirstResponse.work_order_id == WorkOrder.id),
            )
            .order_by(WorkOrder.id)
        )
    )


def raise_shutoffs(*, session: Session, policy: SlaPolicy, now: datetime) -> list[FirstResponse]:
    """A shut-off task for every leak order nobody was dispatched to by its deadline."""
    raised = []
    for order in _overdue_undispatched(session, now):
        if not _is_leak(session, order):
            continue
        raised.append(_shutoff(session, order, policy, now))
    session.flush()
    return raised


def _shutoff(session: Session, order: WorkOrder, policy: SlaPolicy, now: datetime) -> FirstResponse:
    who = on_duty(session=session, site_id=order.site_id)
    path = order.location.path if order.location else None
    zh, en = place_text(path)
    typed = _unit_typed(session, order)
    if typed:  # the unit the owner gave, which the registry does not know
        zh, en = f"{zh} {typed}".strip(), f"{typed}, {en}" if en else typed
    due = min(
        (d.due_at for d in order.deadlines if d.step == Step.dispatch and d.met_at is None),
        default=now,
    )
    reason = (
        f"no engineer dispatched to work order {order.id} by {shown(due, policy.zone)}: "
        "send someone to shut the water off first (先关水阀)"
    )
    task = orders.open_order(
        session=session,
        policy=policy,
        now=now,
        site_id=order.site_id,
        title=f"先关水阀 {zh} / Shut the water off first: {en or 'leak'}"[:300],
        description=reason,
        source=Source.sensor,
        department=Department.security,
        priority=Priority.urgent,
        actor=ACTOR,
        location_id=order.location_id,
    )
    if who is not None:
        orders.transition(
            session=session,
            policy=policy,
            order=task,
            to=Status.dispatched,
            actor=ACTOR,
            now=now,
            assignee=who,
            note=f"first response for work order {order.id}",
        )
    first = FirstResponse(
        work_order_id=order.id, task_order_id=task.id, raised_at=now, assignee=who, reason=reason
    )
    session.add(first)
    remark(
        order,
        WorkOrderEvent,
        action="first_response",
        actor=ACTOR,
        at=now,
        note=f"{reason}; shut-off task work order {task.id} for {who or 'security'}",
    )
    order.updated_at = now
    logger.warning("leak order %s: shut-off task %s for %s", order.id, task.id, who)
    return first
