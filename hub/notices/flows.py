"""Orders → notices: a sensor order on a shared part tells residents; resolving it withdraws.

A shared part is any place that is not a home: a floor's corridor, a pipe well, a restroom,
a gate or lane. A fault inside a unit is that owner's business and gets no notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.notices import service, wording
from hub.notices.models import Notice
from hub.registry.enums import LocationKind
from hub.registry.models import Device, Location
from hub.workorders.enums import Source, Status
from hub.workorders.models import WorkOrder
from hub.workorders.reactions import Moved

DONE = frozenset({Status.resolved, Status.callback, Status.closed, Status.cancelled})
"""Once an order reaches one of these, its notice comes down."""


@dataclass(frozen=True)
class Fault:
    """One alarm of an order, where its device is and whether that place is shared."""

    alarm_type: str
    kind: str
    path: str
    shared: bool


def faults(*, session: Session, order_id: int) -> list[Fault]:
    """The order's alarms with their devices' places, oldest first."""
    rows = session.execute(
        select(Alarm.type, Device.kind, Location.path, Location.kind)
        .join(Device, Device.id == Alarm.device_id)
        .join(Location, Location.id == Device.location_id)
        .where(Alarm.work_order_id == order_id)
        .order_by(Alarm.id)
    ).all()
    return [Fault(t, k, p, lk != LocationKind.unit) for t, k, p, lk in rows]


def on_order_opened(*, session: Session, order: WorkOrder, now: datetime) -> Notice | None:
    """Put up the notice of a sensor order on a shared part (once per order)."""
    if order.source != Source.sensor or order.status in DONE:
        return None
    existing = service.for_order(session=session, work_order_id=order.id)
    found = [f for f in faults(session=session, order_id=order.id) if f.shared]
    alarm_type = wording.notice_type([f.alarm_type for f in found])
    if alarm_type is None:
        return existing
    kind = next(f.kind for f in found if f.alarm_type == alarm_type)
    paths = [f.path for f in found if f.kind == kind]
    if existing is not None:
        service.extend(session=session, notice=existing, fault_paths=paths, now=now)
        return existing
    return service.publish(
        session=session,
        site_id=order.site_id,
        work_order_id=order.id,
        kind=kind,
        alarm_type=alarm_type,
        fault_paths=paths,
        now=now,
    )


def on_orders_opened(*, session: Session, order_ids: Sequence[int], now: datetime) -> list[Notice]:
    """Notices for the orders just opened (or grown by an alarm), those that need one."""
    notices = []
    for order_id in order_ids:
        order = session.get(WorkOrder, order_id)
        if order is not None and (notice := on_order_opened(session=session, order=order, now=now)):
            notices.append(notice)
    return notices


def order_moved(session: Session, moved: Moved) -> Notice | None:
    """The reaction to a move of an order (`hub.workorders.reactions`): its notice comes down."""
    return on_order_moved(session=session, order=moved.order, now=moved.now)


def on_order_moved(*, session: Session, order: WorkOrder, now: datetime) -> Notice | None:
    """Withdraw the order's notice once it is resolved (or cancelled)."""
    if order.status not in DONE:
        return None
    notice = service.for_order(session=session, work_order_id=order.id)
    if notice is not None and service.withdraw(session=session, notice=notice, now=now):
        return notice
    return None
