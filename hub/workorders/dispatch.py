"""Dispatch: who does a department's open orders, decided by its head or a manager.

The board shows a department's open orders (unassigned first, then overdue, then by the
next deadline) beside its technicians with their open load and whether they are on duty.
On duty means the technician used the hub (the pages or the API) within the last
`ON_DUTY` hours: the hub keeps no rota, and a phone that has been used this shift is the
sign a dispatcher has.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from hub import access
from hub.access import DEPARTMENT_OF, Action
from hub.auth.enums import Role
from hub.auth.models import ApiToken, User, UserSite
from hub.auth.principal import Principal
from hub.cases import service as cases
from hub.cases.deadlines import effective_due
from hub.errors import Conflict, InvalidInput
from hub.workorders.enums import Department, Status
from hub.workorders.models import WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy
from hub.workorders.service import transition

ON_DUTY = timedelta(hours=8)
OPEN = (Status.open, Status.dispatched, Status.on_site, Status.on_hold)
"""Orders a dispatcher still decides about: not yet resolved."""
REASSIGNABLE = (Status.dispatched, Status.on_site, Status.on_hold)
ROLE_OF = {department: role for role, department in DEPARTMENT_OF.items()}


@dataclass
class Technician:
    """A field user of a department: their open orders and when they last used the hub."""

    name: str
    role: Role
    head: bool
    open: int = 0
    on_site: int = 0
    last_seen: datetime | None = None
    on_duty: bool = False


@dataclass
class Board:
    """One department's open orders, in dispatch order, and its technicians."""

    department: Department
    orders: list[WorkOrder] = field(default_factory=list)
    technicians: list[Technician] = field(default_factory=list)


def departments_of(principal: Principal) -> list[Department]:
    """The departments `principal` dispatches: all for managers, their own for heads."""
    return [d for d in ROLE_OF if access.allows(principal, Action.dispatch, department=d)]


def next_due(order: WorkOrder, now: datetime) -> datetime | None:
    """The order's next unmet deadline (paused during a hold)."""
    pending = [
        effective_due(d, hold_started_at=order.hold_started_at, now=now)
        for d in order.deadlines
        if d.met_at is None and d.cycle == order.reopen_count
    ]
    return min(pending, default=None)


def dispatch_order(order: WorkOrder, now: datetime) -> tuple[bool, bool, datetime]:
    """Sort key: unassigned first, then overdue, then the nearest deadline."""
    due = next_due(order, now)
    overdue = due is not None and due < now
    return (order.assignee is not None, not overdue, due or datetime.max.replace(tzinfo=now.tzinfo))


def technicians(
    *, session: Session, site_id: str, department: Department, now: datetime
) -> list[Technician]:
    """The active field users of the department on the site, with their load."""
    role = ROLE_OF[department]
    users = session.scalars(
        select(User)
        .join(UserSite, UserSite.user_id == User.id)
        .where(UserSite.site_id == site_id, User.role == role.value, User.active.is_(True))
        .order_by(User.name)
    ).all()
    if not users:
        return []
    names = [u.name for u in users]
    loads = Counter[tuple[str, str]]()
    for assignee, status in session.execute(
        select(WorkOrder.assignee, WorkOrder.status).where(
            WorkOrder.site_id == site_id,
            WorkOrder.assignee.in_(names),
            WorkOrder.status.in_([s.value for s in REASSIGNABLE]),
        )
    ):
        loads[(assignee or "", status)] += 1
    seen = dict(
        session.execute(
            select(ApiToken.user_id, func.max(ApiToken.last_used_at))
            .where(ApiToken.user_id.in_([u.id for u in users]))
            .group_by(ApiToken.user_id)
        ).all()
    )
    out = []
    for user in users:
        last = seen.get(user.id)
        out.append(
            Technician(
                name=user.name,
                role=role,
                head=user.department_head,
                open=sum(n for (who, _s), n in loads.items() if who == user.name),
                on_site=loads[(user.name, Status.on_site.value)],
                last_seen=last,
                on_duty=last is not None and now - last <= ON_DUTY,
            )
        )
    return out


def boards(*, session: Session, principal: Principal, site_id: str, now: datetime) -> list[Board]:
    """The dispatch boards of the departments `principal` dispatches on `site_id`."""
    departments = departments_of(principal)
    orders = session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.site_id == site_id,
            WorkOrder.status.in_([s.value for s in OPEN]),
            WorkOrder.department.in_([d.value for d in departments]),
        )
        .options(selectinload(WorkOrder.deadlines), selectinload(WorkOrder.history))
        .limit(2000)
    ).all()
    out = []
    for department in departments:
        mine = sorted(
            (o for o in orders if o.department == department.value),
            key=lambda o: dispatch_order(o, now),
        )
        staff = technicians(session=session, site_id=site_id, department=department, now=now)
        out.append(Board(department, mine, staff))
    return out


def assign(
    *,
    session: Session,
    policy: SlaPolicy,
    order: WorkOrder,
    assignee: str,
    by: Principal,
    now: datetime,
    note: str = "",
) -> WorkOrder:
    """Give `order` to `assignee` (a technician of its department on its site).

    An open order is dispatched to them; a dispatched, on-site or held one changes hands,
    recorded on its history as `reassigned` from whom to whom.
    """
    access.require(by, Action.dispatch, department=order.department)
    role = ROLE_OF.get(Department(order.department))
    if role is None:
        raise Conflict(f"work order {order.id} is the {order.department}'s: nobody is dispatched")
    user = session.scalars(
        select(User)
        .join(UserSite, UserSite.user_id == User.id)
        .where(User.name == assignee, UserSite.site_id == order.site_id, User.active.is_(True))
    ).one_or_none()
    if user is None or user.role != role.value:
        raise InvalidInput(
            f"{assignee!r} is no {role.value} of this site", details={"field": "assignee"}
        )
    status = Status(order.status)
    if status == Status.open:
        return transition(
            session=session,
            policy=policy,
            order=order,
            to=Status.dispatched,
            actor=by.name,
            now=now,
            note=note,
            assignee=assignee,
            by=by,
        )
    if status not in REASSIGNABLE:
        raise Conflict(
            f"work order {order.id} is {status.value}: only open orders change hands",
            details={"status": status.value},
        )
    if order.assignee == assignee:
        raise Conflict(f"work order {order.id} is {assignee}'s already")
    before = order.assignee or "-"
    order.assignee = assignee
    order.updated_at = now
    cases.remark(
        order,
        WorkOrderEvent,
        action="reassigned",
        actor=by.name,
        at=now,
        note=f"{before} → {assignee}" + (f": {note}" if note else ""),
    )
    session.flush()
    return order
