"""The parts store's reactions: an order moved (parts used, a hold naming its part), reorders."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.errors import InvalidInput, NotFound
from hub.parts import service
from hub.parts.enums import MoveReason
from hub.parts.models import Part
from hub.registry.models import Device
from hub.workorders.enums import Status
from hub.workorders.models import WorkOrder
from hub.workorders.reactions import Moved

logger = logging.getLogger(__name__)

ACTOR = "parts"


def _devices_of_kind(session: Session, order: WorkOrder, kind: str) -> int:
    """How many devices of `kind` the order repaired: those of its alarms, or its own device."""
    ids = set(
        session.scalars(
            select(Alarm.device_id)
            .join(Device, Device.id == Alarm.device_id)
            .where(Alarm.work_order_id == order.id, Device.kind == kind)
        )
    )
    if not ids and order.device_id is not None:
        device = session.get(Device, order.device_id)
        if device is not None and device.kind == kind:
            ids.add(device.id)
    return len(ids)


def hold_for(*, session: Session, order: WorkOrder, part_id: int) -> None:
    """A hold for parts names its part, and the hold reason says when it is expected."""
    if order.status != Status.on_hold:
        raise InvalidInput(
            "hold_part_id goes with a move to on_hold", details={"field": "hold_part_id"}
        )
    part = session.get(Part, part_id)
    if part is None or part.site_id != order.site_id:
        raise NotFound(f"part {part_id} not found")
    order.hold_part_id = part.id
    order.hold_reason = _awaiting(session, part, order.hold_reason or "")
    session.flush()


def order_moved(session: Session, moved: Moved) -> None:
    """The store's reaction to any move of an order (registered in `hub.wiring`): a hold
    left forgets its part; a resolved repair uses its parts.

    A lamp order resolved takes one lamp per failed lamp from the site's store (once per
    order); the stock never goes below zero — what is missing is noted on the movement.
    """
    order, now = moved.order, moved.now
    if order.status != Status.on_hold:
        order.hold_part_id = None
    if order.status != Status.resolved:
        return
    for part in _parts_for(session, order):
        if service.used_on(session=session, part_id=part.id, work_order_id=order.id):
            continue
        needed = _devices_of_kind(session, order, part.device_kind or "")
        taken = min(needed, part.stock)
        if taken <= 0:
            logger.warning("order %s used %s but none is in stock", order.id, part.name)
            continue
        service.move(
            session=session,
            part=part,
            delta=-taken,
            reason=MoveReason.used,
            actor=ACTOR,
            now=now,
            note="" if taken == needed else f"{needed - taken} missing from stock",
            work_order_id=order.id,
        )


def _awaiting(session: Session, part: Part, reason: str) -> str:
    """The hold reason with the part awaited and when it is expected (the desk reads it)."""
    expected = service.expected_on(session=session, part=part)
    name_en = part.name_en or part.name
    if expected is None:
        zh, en = f"等待备件{part.name}，尚未订购", f"awaiting {name_en}, not yet ordered"
    else:
        zh = f"等待备件{part.name}，预计{expected:%Y-%m-%d}到货"
        en = f"awaiting {name_en}, expected {expected:%Y-%m-%d}"
    return f"{reason} ({zh} / {en})".strip()[:2000]


def _parts_for(session: Session, order: WorkOrder) -> list[Part]:
    kinds = set(
        session.scalars(
            select(Device.kind)
            .join(Alarm, Alarm.device_id == Device.id)
            .where(Alarm.work_order_id == order.id)
        )
    )
    if order.device_id is not None:
        device = session.get(Device, order.device_id)
        if device is not None:
            kinds.add(device.kind)
    parts: list[Part] = []
    for kind in sorted(kinds):
        parts.extend(
            service.parts_for_kind(session=session, site_id=order.site_id, device_kind=kind)
        )
    return parts


@dataclass
class ReorderResult:
    """Parts whose `order_by` came in this pass (the `part_reorder` alarm) or went away."""

    due: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)


def reorder_pass(*, session: Session, now: datetime, zone: tzinfo) -> ReorderResult:
    """Raise `part_reorder` on each part whose order-by day has come; clear it once ordered."""
    result = ReorderResult()
    parts = session.scalars(select(Part).order_by(Part.id)).all()
    today = now.astimezone(zone).date()
    outlooks = service.forecasts(session=session, parts=parts, now=now, today=today)
    for part in parts:
        due = outlooks[part.id].due(today)
        if due and part.reorder_since is None:
            part.reorder_since = now
            result.due.append(part.id)
            logger.info(
                "part_reorder: %s (%s) order by %s",
                part.name,
                part.site_id,
                outlooks[part.id].order_by,
            )
        elif not due and part.reorder_since is not None:
            part.reorder_since = None
            result.cleared.append(part.id)
    session.flush()
    return result
