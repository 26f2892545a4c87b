"""Complaint → work order: a repair or facility complaint opens a dispatch slip, linked both ways.

The link is a `complaint_work_orders` row, read from either side; the order's history notes
the complaint it came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.cases.service import remark
from hub.complaints.enums import Category, ComplaintSeverity, Kind, Responsibility, Status, Step
from hub.complaints.models import Complaint, ComplaintEvent, ComplaintWorkOrder
from hub.complaints.policy import ComplaintPolicy
from hub.complaints.workflow import TERMINAL, callback_due
from hub.errors import Conflict
from hub.localtime import shown
from hub.registry.enums import DeviceKind
from hub.workorders.enums import Department, Priority, Source
from hub.workorders.enums import Status as OrderStatus
from hub.workorders.models import WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy
from hub.workorders.reactions import Moved
from hub.workorders.service import TERMINAL as ORDER_TERMINAL
from hub.workorders.service import open_order

logger = logging.getLogger(__name__)

# Categories whose fix is a job for engineering, cleaning or security.
ORDERABLE = frozenset(
    {Category.facility, Category.sanitation, Category.security_order, Category.emergency}
)

_DEPARTMENT_BY_CATEGORY: dict[str, Department] = {
    Category.facility: Department.engineering,
    Category.emergency: Department.engineering,
    Category.sanitation: Department.cleaning,
    Category.security_order: Department.security,
}


def department_for(complaint: Complaint) -> Department:
    """Who carries the job out: restroom supplies go to cleaning, lights, leaks to engineering."""
    kinds = set(complaint.device_kinds)
    if complaint.category == Category.emergency:
        return Department.engineering
    if DeviceKind.restroom in kinds:
        return Department.cleaning
    if kinds & {DeviceKind.light, DeviceKind.leak}:
        return Department.engineering
    return _DEPARTMENT_BY_CATEGORY.get(complaint.category, Department.engineering)


def priority_for(complaint: Complaint) -> Priority:
    """How urgent the job is, from the category and the desk's severity."""
    if complaint.category == Category.emergency or complaint.severity == ComplaintSeverity.critical:
        return Priority.urgent
    if complaint.severity == ComplaintSeverity.high or complaint.repeat_of_id is not None:
        return Priority.high
    if complaint.severity == ComplaintSeverity.low:
        return Priority.low
    return Priority.normal


def open_work_order(
    *,
    session: Session,
    policy: SlaPolicy,
    complaint: Complaint,
    actor: str,
    now: datetime,
    department: Department | None = None,
    priority: Priority | None = None,
    title: str | None = None,
    assignee: str | None = None,
) -> WorkOrder:
    """Open a work order for a repair or facility complaint and link the two."""
    if Status(complaint.status) in TERMINAL:
        raise Conflict(f"complaint {complaint.id} is {complaint.status}")
    if complaint.responsibility == Responsibility.non_property:
        raise Conflict(
            f"complaint {complaint.id} is not the property's to fix ({complaint.party}); "
            "track the outside party instead, or override the classification",
            details={"responsibility": complaint.responsibility, "party": complaint.party},
        )
    if complaint.kind != Kind.repair and complaint.category not in ORDERABLE:
        raise Conflict(
            f"a {complaint.category} complaint does not open a work order "
            "(repairs and facility, sanitation, security or emergency complaints do)",
            details={"category": complaint.category, "kind": complaint.kind},
        )
    order = open_order(
        session=session,
        policy=policy,
        now=now,
        site_id=complaint.site_id,
        title=(title or _title(complaint))[:300],
        description=f"complaint {complaint.id}: {complaint.content}",
        source=Source.complaint,
        department=department or department_for(complaint),
        priority=priority or priority_for(complaint),
        actor=actor,
        location_id=complaint.location_id,
        assignee=assignee,
    )
    remark(
        order,
        WorkOrderEvent,
        action="linked",
        actor=actor,
        at=now,
        note=f"opened from complaint {complaint.id}",
    )
    complaint.work_orders.append(ComplaintWorkOrder(work_order_id=order.id, at=now, actor=actor))
    remark(
        complaint,
        ComplaintEvent,
        action="work_order_opened",
        actor=actor,
        at=now,
        note=f"work order {order.id} ({order.department}, {order.priority})",
    )
    complaint.updated_at = now
    session.flush()
    logger.info("complaint %s opened work order %s", complaint.id, order.id)
    return order


def _title(complaint: Complaint) -> str:
    where = complaint.location.path if complaint.location else ""
    if complaint.unit_text and complaint.unit is None:
        where = f"{where} {complaint.unit_text}".strip()  # the unit as typed, not registered
    text = complaint.content.replace("\n", " ")
    head = text if len(text) <= 60 else text[:59] + "…"
    return f"{where} {head}".strip()


def attach_to_order(
    *, session: Session, complaint: Complaint, order: WorkOrder, actor: str, now: datetime, why: str
) -> bool:
    """Link the complaint to an order that already handles it (no new order); False if linked.

    Both sides record it: the order's history names the complaint, the complaint's the order.
    """
    if any(link.work_order_id == order.id for link in complaint.work_orders):
        return False
    complaint.work_orders.append(ComplaintWorkOrder(work_order_id=order.id, at=now, actor=actor))
    remark(
        order,
        WorkOrderEvent,
        action="complaint_attached",
        actor=actor,
        at=now,
        note=f"complaint {complaint.id} attached: {why}",
    )
    remark(
        complaint,
        ComplaintEvent,
        action="known_issue",
        actor=actor,
        at=now,
        note=f"attached to work order {order.id} ({order.status}): {why}",
    )
    complaint.updated_at = now
    session.flush()
    logger.info("complaint %s attached to work order %s", complaint.id, order.id)
    return True


def linked_active_order(*, session: Session, complaint: Complaint) -> WorkOrder | None:
    """The most recent order linked to the complaint that is not closed or cancelled."""
    for link in sorted(complaint.work_orders, key=lambda c: c.id, reverse=True):
        order = session.get(WorkOrder, link.work_order_id)
        if order is not None and order.status not in ORDER_TERMINAL:
            return order
    return None


@dataclass(frozen=True)
class OrderFor:
    """The order a complaint's request for one got: opened now, or the one already on it."""

    order: WorkOrder
    opened: bool
    reason: str


def work_order_for(
    *,
    session: Session,
    policy: SlaPolicy,
    complaint: Complaint,
    actor: str,
    now: datetime,
    department: Department | None = None,
    priority: Priority | None = None,
    title: str | None = None,
    assignee: str | None = None,
) -> OrderFor:
    """Open a work order for the complaint, unless an order it is linked to still runs.

    Asking again for a complaint whose problem an order already handles (its known issue,
    or an order opened earlier) returns that order with the reason, recorded in history:
    one fault, one order.
    """
    existing = linked_active_order(session=session, complaint=complaint)
    if existing is not None:
        reason = (
            f"work order {existing.id} ({existing.status}, {existing.department}) already "
            f"handles complaint {complaint.id}; no second order opened"
        )
        remark(
            complaint,
            ComplaintEvent,
            action="work_order_existing",
            actor=actor,
            at=now,
            note=reason,
        )
        session.flush()
        return OrderFor(existing, opened=False, reason=reason)
    order = open_work_order(
        session=session,
        policy=policy,
        complaint=complaint,
        actor=actor,
        now=now,
        department=department,
        priority=priority,
        title=title,
        assignee=assignee,
    )
    return OrderFor(order, opened=True, reason=f"work order {order.id} opened")


def callbacks_due(
    session: Session, moved: Moved, *, policy: ComplaintPolicy, actor: str = "system"
) -> list[int]:
    """The reaction to a move of an order (`hub.workorders.reactions`): resolved, each
    complaint attached to it falls due for its callback (回访, 2 h by default).

    Returns the complaints whose callback was made due.
    """
    order = moved.order
    if moved.target != OrderStatus.resolved:
        return []
    complaints = session.scalars(
        select(Complaint)
        .join(ComplaintWorkOrder, ComplaintWorkOrder.complaint_id == Complaint.id)
        .where(ComplaintWorkOrder.work_order_id == order.id)
        .order_by(Complaint.id)
    ).all()
    by = shown(moved.now + policy.allowed(Step.callback), policy.zone)
    note = f"work order {order.id} resolved: call the owner back by {by} (回访)"
    due = [
        c.id
        for c in complaints
        if callback_due(c, policy=policy, now=moved.now, actor=actor, note=note) is not None
    ]
    session.flush()
    return due
