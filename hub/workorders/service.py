"""Work-order service: open, move through the lifecycle, keep deadlines, flag breaches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub import sla
from hub.errors import Conflict, InvalidInput, NotFound
from hub.workorders.enums import Department, Priority, Source, Status, Step
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy

logger = logging.getLogger(__name__)

S = Status

ALLOWED: dict[Status, frozenset[Status]] = {
    S.open: frozenset({S.dispatched, S.cancelled}),
    S.dispatched: frozenset({S.on_site, S.on_hold, S.cancelled}),
    S.on_site: frozenset({S.resolved, S.on_hold}),
    S.on_hold: frozenset({S.dispatched, S.on_site, S.cancelled}),
    S.resolved: frozenset({S.callback}),
    S.callback: frozenset({S.closed, S.dispatched}),
    S.closed: frozenset(),
    S.cancelled: frozenset(),
}
"""Every allowed move; anything else is refused with 409."""

TERMINAL = frozenset({S.closed, S.cancelled})
ACTIVE = frozenset(set(Status) - TERMINAL)

# Reaching a state meets the deadline of the step that leads to it.
_MEETS: dict[Status, Step] = {
    S.dispatched: Step.dispatch,
    S.on_site: Step.on_site,
    S.resolved: Step.resolve,
    S.callback: Step.callback,
}


def open_order(
    *,
    session: Session,
    policy: SlaPolicy,
    now: datetime,
    site_id: str,
    title: str,
    source: Source,
    department: Department,
    priority: Priority = Priority.normal,
    actor: str,
    description: str = "",
    device_id: str | None = None,
    location_id: int | None = None,
    assignee: str | None = None,
) -> WorkOrder:
    """Register a new order in `open` with its dispatch, on-site and resolve deadlines."""
    order = WorkOrder(
        site_id=site_id,
        device_id=device_id,
        location_id=location_id,
        source=source,
        department=department,
        priority=priority,
        status=S.open,
        title=title,
        description=description,
        assignee=assignee,
        created_by=actor,
        created_at=now,
        updated_at=now,
        hold_total_s=0,
        reopen_count=0,
        escalation_level=0,
    )
    session.add(order)
    order.history.append(
        WorkOrderEvent(at=now, actor=actor, action="opened", to_status=S.open, note=description)
    )
    _start_cycle(order, policy=policy, now=now, steps=(Step.dispatch, Step.on_site, Step.resolve))
    session.flush()
    logger.info("work order %s opened (%s, %s, %s)", order.id, source, department, priority)
    return order


def transition(
    *,
    session: Session,
    policy: SlaPolicy,
    order: WorkOrder,
    to: Status,
    actor: str,
    now: datetime,
    note: str = "",
    assignee: str | None = None,
) -> WorkOrder:
    """Move `order` to `to` if the lifecycle allows it, recording who, when and why."""
    current = Status(order.status)
    if to not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none (terminal)"
        raise Conflict(
            f"work order {order.id} cannot move from {current} to {to}; allowed: {allowed}",
            details={"from": current, "to": to, "allowed": sorted(ALLOWED[current])},
        )
    note = note.strip()
    if assignee is not None:
        order.assignee = assignee.strip() or None
    if to == S.dispatched and not order.assignee:
        raise InvalidInput("dispatching needs an assignee", details={"field": "assignee"})
    if to == S.on_hold and not note:
        raise InvalidInput("putting an order on hold needs a reason in `note`")
    reopening = current == S.callback and to == S.dispatched
    if reopening and not note:
        raise InvalidInput("a failed callback needs the owner's objection in `note`")

    if current == S.on_hold:
        _end_hold(order, now=now)
    if to == S.on_hold:
        order.held_from = current
        order.hold_reason = note
        order.hold_started_at = now

    step = _MEETS.get(to)
    if step is not None and not reopening:
        _meet(order, step=step, now=now)
    if to == S.resolved:
        _start_cycle(order, policy=policy, now=now, steps=(Step.callback,))
    if reopening:
        order.reopen_count += 1
        order.closed_at = None
        _meet(order, step=Step.callback, now=now)
        _start_cycle(order, policy=policy, now=now, steps=(Step.on_site, Step.resolve))
    if to in TERMINAL:
        order.closed_at = now

    order.status = to
    order.updated_at = now
    action = "reopened" if reopening else "moved"
    order.history.append(
        WorkOrderEvent(
            at=now, actor=actor, action=action, from_status=current, to_status=to, note=note
        )
    )
    session.flush()
    return order


PRIORITY_RANK = {Priority.low: 0, Priority.normal: 1, Priority.high: 2, Priority.urgent: 3}


def raise_priority(
    *,
    session: Session,
    policy: SlaPolicy,
    order: WorkOrder,
    priority: Priority,
    actor: str,
    now: datetime,
    note: str = "",
) -> bool:
    """Make `order` more urgent; pending deadlines tighten to the new priority's minutes.

    Never lowers a priority. Returns whether it changed anything.
    """
    if PRIORITY_RANK[priority] <= PRIORITY_RANK[Priority(order.priority)]:
        return False
    before = order.priority
    order.priority = priority
    minutes = policy.minutes(order.department, priority)
    for deadline in order.deadlines:
        if deadline.cycle == order.reopen_count and deadline.met_at is None:
            tighter = deadline.started_at + minutes.allowed(Step(deadline.step))
            if deadline.breached_at is None and tighter < deadline.due_at:
                deadline.due_at = tighter
    order.updated_at = now
    sla.remark(
        order,
        WorkOrderEvent,
        action="priority_raised",
        actor=actor,
        at=now,
        note=note or f"priority {before} → {priority}",
    )
    session.flush()
    return True


def _start_cycle(
    order: WorkOrder, *, policy: SlaPolicy, now: datetime, steps: Sequence[Step]
) -> None:
    """Add deadlines for `steps`, counted from `now`, in the order's current cycle."""
    minutes = policy.minutes(order.department, order.priority)
    for step in steps:
        order.deadlines.append(
            Deadline(
                step=step,
                cycle=order.reopen_count,
                started_at=now,
                due_at=now + minutes.allowed(step),
            )
        )


def _meet(order: WorkOrder, *, step: Step, now: datetime) -> None:
    """Mark the current cycle's deadline for `step` met; late means breached."""
    for deadline in sla.meet(order.deadlines, step=step, cycle=order.reopen_count, now=now):
        _breach(order, deadline, actor="system", now=now)


def _end_hold(order: WorkOrder, *, now: datetime) -> None:
    """Leave hold: pending deadlines move later by the time spent on hold."""
    assert order.hold_started_at is not None
    held = sla.hold_ended(order.deadlines, hold_started_at=order.hold_started_at, now=now)
    order.hold_total_s += int(held.total_seconds())
    order.held_from = None
    order.hold_reason = None
    order.hold_started_at = None


def _breach(order: WorkOrder, deadline: Deadline, *, actor: str, now: datetime) -> None:
    """Flag a missed deadline and raise the work order's escalation level."""
    sla.breach(order, deadline, event=WorkOrderEvent, label="work order", actor=actor, now=now)


def flag_breaches(*, session: Session, now: datetime) -> list[WorkOrder]:
    """Flag every pending deadline now past due (orders on hold excepted); return the orders."""
    rows = session.scalars(
        select(Deadline)
        .join(WorkOrder)
        .where(
            Deadline.met_at.is_(None),
            Deadline.breached_at.is_(None),
            Deadline.due_at < now,
            WorkOrder.status.in_([s.value for s in ACTIVE - {S.on_hold}]),
        )
        .options(selectinload(Deadline.order))
    ).all()
    touched: dict[int, WorkOrder] = {}
    for deadline in rows:
        if not sla.overdue([deadline], cycle=deadline.order.reopen_count, now=now):
            continue
        _breach(deadline.order, deadline, actor="sla-watchdog", now=now)
        deadline.order.updated_at = now
        touched[deadline.order.id] = deadline.order
    session.flush()
    return list(touched.values())


def effective_due(deadline: Deadline, order: WorkOrder, now: datetime) -> datetime:
    """When a pending deadline falls due, counting an ongoing hold as paused time."""
    return sla.effective_due(deadline, hold_started_at=order.hold_started_at, now=now)


def get_order(*, session: Session, order_id: int, site_ids: frozenset[str]) -> WorkOrder:
    """The order with this id, if it is in one of `site_ids`."""
    order = session.get(WorkOrder, order_id)
    if order is None or order.site_id not in site_ids:
        raise NotFound(f"work order {order_id} not found")
    return order


def list_orders(
    *,
    session: Session,
    site_ids: frozenset[str],
    statuses: Sequence[Status] = (),
    sources: Sequence[Source] = (),
    site: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[WorkOrder]:
    """Orders in the caller's sites, newest first, filtered by status, source and site."""
    query = select(WorkOrder).where(WorkOrder.site_id.in_(site_ids))
    if site is not None:
        query = query.where(WorkOrder.site_id == site)
    if statuses:
        query = query.where(WorkOrder.status.in_([s.value for s in statuses]))
    if sources:
        query = query.where(WorkOrder.source.in_([s.value for s in sources]))
    query = (
        query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(limit)
        .offset(offset)
        .options(selectinload(WorkOrder.history), selectinload(WorkOrder.deadlines))
    )
    return session.scalars(query).all()


def held_for(order: WorkOrder, now: datetime) -> timedelta:
    """Total time the order has spent on hold, including an ongoing hold."""
    total = timedelta(seconds=order.hold_total_s)
    if order.hold_started_at is not None:
        total += now - order.hold_started_at
    return total
