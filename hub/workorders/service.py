"""Work-order service: open, move through the lifecycle, keep deadlines, flag breaches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub import access
from hub.access import Action
from hub.auth.enums import Role
from hub.auth.principal import Principal
from hub.cases import service as cases
from hub.cases.moves import Move, MoveTable
from hub.cases.watchdog import CaseType
from hub.errors import InvalidInput, NotFound
from hub.workorders import reactions
from hub.workorders.enums import Department, Priority, Source, Status, Step
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy
from hub.workorders.reactions import Moved

logger = logging.getLogger(__name__)

S = Status
LABEL = "work order"


@dataclass(frozen=True)
class OrderMoveRequest:
    """What the caller asks of a move: its note, and a new assignee (None: keep; "": clear)."""

    note: str = ""
    assignee: str | None = None

    def assignee_after(self, order: WorkOrder) -> str | None:
        """Who the order is assigned to once the move is made."""
        return order.assignee if self.assignee is None else self.assignee or None


def _needs_assignee(order: WorkOrder, request: OrderMoveRequest) -> None:
    if not request.assignee_after(order):
        raise InvalidInput("dispatching needs an assignee", details={"field": "assignee"})


def _needs_hold_reason(_order: WorkOrder, request: OrderMoveRequest) -> None:
    if not request.note:
        raise InvalidInput("putting an order on hold needs a reason in `note`")


def _needs_objection(_order: WorkOrder, request: OrderMoveRequest) -> None:
    if not request.note:
        raise InvalidInput("a failed callback needs the owner's objection in `note`")


# The desk verifies and calls back; the people doing the work do not close their own orders.
DESK = access.roles_for(Action.close_order)


def _move(
    source: Status, target: Status, *, action: str = "moved", roles: frozenset[Role] | None = None
) -> Move[WorkOrder, OrderMoveRequest]:
    requires = {S.dispatched: (_needs_assignee,), S.on_hold: (_needs_hold_reason,)}
    guards = (_needs_objection,) if action == "reopened" else requires.get(target, ())
    if target in (S.callback, S.closed, S.cancelled):
        roles = DESK
    return Move(source, target, roles=roles, requires=guards, action=action)


MOVES: MoveTable[WorkOrder, OrderMoveRequest] = MoveTable(
    LABEL,
    Status,
    [
        _move(S.open, S.dispatched),
        _move(S.open, S.cancelled),
        _move(S.dispatched, S.on_site),
        _move(S.dispatched, S.on_hold),
        _move(S.dispatched, S.cancelled),
        _move(S.on_site, S.resolved),
        _move(S.on_site, S.on_hold),
        _move(S.on_hold, S.dispatched),
        _move(S.on_hold, S.on_site),
        _move(S.on_hold, S.cancelled),
        _move(S.resolved, S.callback),
        _move(S.callback, S.closed),
        _move(S.callback, S.dispatched, action="reopened"),
    ],
)
"""Every allowed move of a work order; anything else is refused with 409."""

TERMINAL = MOVES.terminal
ACTIVE = frozenset(set(Status) - TERMINAL)

CASES: CaseType[WorkOrder] = CaseType(
    label=LABEL,
    case=WorkOrder,
    deadline=Deadline,
    parent=Deadline.order,
    event=WorkOrderEvent,
    running=frozenset(ACTIVE - {S.on_hold}),
)
"""Work orders as the shared breach watchdog sees them."""

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
    title_en: str = "",
    department: Department,
    priority: Priority = Priority.normal,
    actor: str,
    description: str = "",
    device_id: str | None = None,
    location_id: int | None = None,
    assignee: str | None = None,
    by: Principal | None = None,
) -> WorkOrder:
    """Register a new order in `open` with its dispatch, on-site and resolve deadlines.

    `by` None is the hub itself (rules, the desk's flows); a person opens orders only for
    the departments the access matrix gives them.
    """
    if by is not None:
        access.require(by, Action.open_order, department=department)
    order = WorkOrder(
        site_id=site_id,
        device_id=device_id,
        location_id=location_id,
        source=source,
        department=department,
        priority=priority,
        status=S.open,
        title=title,
        title_en=title_en,
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
    by: Principal | None = None,
) -> WorkOrder:
    """Move `order` to `to` if the lifecycle, the caller and the order allow it.

    `by` None is the hub itself; a person may move only the orders the access matrix gives
    them (`hub.access`). Records who, when and why, then runs the reactions registered on
    the session (`hub.workorders.reactions`) in the same transaction.
    """
    if by is not None:
        access.require(by, Action.move_order, department=order.department, assignee=order.assignee)
    current = Status(order.status)
    to = Status(to)
    request = OrderMoveRequest(
        note=note.strip(), assignee=assignee.strip() if assignee is not None else None
    )
    role = by.role if by is not None else None
    move = MOVES.check(order, request, source=current, target=to, role=role)
    order.assignee = request.assignee_after(order)
    cases.move(
        session,
        order,
        WorkOrderEvent,
        to=to,
        action=move.action,
        actor=actor,
        now=now,
        note=request.note,
        hold=S.on_hold,
        terminal=TERMINAL,
        deadlines=partial(
            _deadlines, order, to=to, reopening=move.action == "reopened", now=now, policy=policy
        ),
    )
    reactions.run(session, Moved(order, current, to, move.action, actor, now))
    return order


def _deadlines(
    order: WorkOrder, *, to: Status, reopening: bool, now: datetime, policy: SlaPolicy
) -> None:
    """Reaching a state meets its step; resolving starts the callback's clock; a reopening
    (a failed callback) meets the callback and starts a new cycle of on-site and resolve."""
    step = _MEETS.get(to)
    if step is not None and not reopening:
        _meet(order, step=step, now=now, policy=policy)
    if to == S.resolved:
        _start_cycle(order, policy=policy, now=now, steps=(Step.callback,))
    if reopening:
        order.reopen_count += 1
        order.closed_at = None
        _meet(order, step=Step.callback, now=now, policy=policy)
        _start_cycle(order, policy=policy, now=now, steps=(Step.on_site, Step.resolve))


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
    cases.remark(
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


def _meet(order: WorkOrder, *, step: Step, now: datetime, policy: SlaPolicy) -> None:
    """Mark the current cycle's deadline for `step` met; late means breached."""
    cases.meet(
        order,
        step=step,
        now=now,
        event=WorkOrderEvent,
        label=LABEL,
        actor="system",
        zone=policy.zone,
    )


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
