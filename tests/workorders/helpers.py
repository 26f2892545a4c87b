"""Helpers to bring a work order to any state through allowed moves."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.workorders import service
from hub.workorders.enums import Department, Priority, Source, Status
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy

S = Status

PATHS: dict[Status, list[Status]] = {
    S.open: [],
    S.dispatched: [S.dispatched],
    S.on_site: [S.dispatched, S.on_site],
    S.on_hold: [S.dispatched, S.on_hold],
    S.resolved: [S.dispatched, S.on_site, S.resolved],
    S.callback: [S.dispatched, S.on_site, S.resolved, S.callback],
    S.closed: [S.dispatched, S.on_site, S.resolved, S.callback, S.closed],
    S.cancelled: [S.cancelled],
}


def new_order(
    db: Session,
    clock: ManualClock,
    policy: SlaPolicy,
    *,
    site: str = "sunshine-garden",
    department: Department = Department.engineering,
    priority: Priority = Priority.urgent,
) -> WorkOrder:
    """An open manual order."""
    return service.open_order(
        session=db,
        policy=policy,
        now=clock.now(),
        site_id=site,
        title="4-2-301 水管爆裂 burst pipe",
        source=Source.manual,
        department=department,
        priority=priority,
        actor="desk-li",
    )


def move(db: Session, clock: ManualClock, policy: SlaPolicy, order: WorkOrder, to: Status) -> None:
    """One move with the note and assignee any move may need."""
    service.transition(
        session=db,
        policy=policy,
        order=order,
        to=to,
        actor="tester",
        now=clock.now(),
        note=f"moving to {to}",
        assignee="eng-wang" if to == S.dispatched else None,
    )


def bring_to(
    db: Session, clock: ManualClock, policy: SlaPolicy, order: WorkOrder, target: Status
) -> WorkOrder:
    """Walk `order` along allowed moves until it is in `target`."""
    for step in PATHS[target]:
        clock.advance(seconds=30)
        move(db, clock, policy, order, step)
    assert order.status == target
    return order
