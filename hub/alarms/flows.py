"""Alarm → work order, in the caller's transaction: open, attach, group, note the clearing."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from devices.base import Rule
from hub.alarms.enums import Outcome
from hub.alarms.models import Alarm
from hub.alarms.service import Raised
from hub.cases.service import remark
from hub.localtime import shown
from hub.registry.models import Device, Location
from hub.registry.places import halves, place_text
from hub.workorders.enums import Source
from hub.workorders.models import WorkOrder, WorkOrderEvent
from hub.workorders.policy import SlaPolicy
from hub.workorders.service import ACTIVE, open_order, raise_priority

logger = logging.getLogger(__name__)

ACTOR = "rules"
_ACTIVE = [s.value for s in ACTIVE]

ORDER_FLOW_LOCK = (0x46480002, 0)
"""The advisory lock (two-key form) that alarm → order decisions take on PostgreSQL."""


def lock_order_flow(session: Session) -> None:
    """Serialise alarm → order decisions with every other transaction's, until commit.

    Each ingest batch holds only its own devices' locks, so batches with different devices
    of one group (two batches in progress at once, or two workers) both looked for the
    group's order, found none, and both opened one. Held from the lookup to the commit, the
    lock makes the later batch find the order the earlier one committed. It is one key for
    every group, not one per group: a batch raising alarms of several groups would take
    their locks in the order its messages came, and two such batches could deadlock. It is
    taken only when an alarm needs an order or its order changes (raised, reopened,
    cleared), never per message; SQLite already has one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), _LOCK_KEYS)


_LOCK_KEYS = {"c": ORDER_FLOW_LOCK[0], "k": ORDER_FLOW_LOCK[1]}


def _note(order: WorkOrder, *, action: str, now: datetime, note: str) -> None:
    remark(order, WorkOrderEvent, action=action, actor=ACTOR, at=now, note=note)
    order.updated_at = now


def _group_prefix(device: Device, depth: int) -> str | None:
    """The location path the rule groups by: "" for the whole site, "3" for building 3."""
    if depth == 0:
        return ""
    if device.location is None:
        return None
    codes = device.location.path.split("/")
    if len(codes) < depth:
        return None
    return "/".join(codes[:depth])


def _order_for_same_fault(*, session: Session, alarm: Alarm, rule: Rule) -> WorkOrder | None:
    """An active order already handling this device's alarm type (or one it joins)."""
    return session.scalar(
        select(WorkOrder)
        .join(Alarm, Alarm.work_order_id == WorkOrder.id)
        .where(
            Alarm.device_id == alarm.device_id,
            Alarm.type.in_((alarm.type, *rule.joins)),
            Alarm.id != alarm.id,
            WorkOrder.status.in_(_ACTIVE),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )


def _handles(session: Session, order: WorkOrder, alarm: Alarm) -> bool:
    """Whether the order already handles another alarm of this alarm's type."""
    return (
        session.scalar(
            select(Alarm.id)
            .where(Alarm.work_order_id == order.id, Alarm.type == alarm.type, Alarm.id != alarm.id)
            .limit(1)
        )
        is not None
    )


def _order_for_group(
    *, session: Session, alarm: Alarm, device: Device, rule: Rule
) -> WorkOrder | None:
    """An active sensor order for the same alarm type in the same building/floor/site."""
    if rule.group_depth is None:
        return None
    prefix = _group_prefix(device, rule.group_depth)
    if prefix is None:
        return None
    query = (
        select(WorkOrder)
        .join(Alarm, Alarm.work_order_id == WorkOrder.id)
        .join(Device, Device.id == Alarm.device_id)
        .where(
            WorkOrder.site_id == device.site_id,
            WorkOrder.source == Source.sensor,
            WorkOrder.status.in_(_ACTIVE),
            Alarm.type == alarm.type,
        )
    )
    if prefix:
        query = query.join(Location, Location.id == Device.location_id).where(
            (Location.path == prefix) | Location.path.startswith(prefix + "/")
        )
    return session.scalar(query.order_by(WorkOrder.id).limit(1))


def _titles(rule: Rule, device: Device) -> tuple[str, str]:
    """The order's title in Chinese and English: what happened, and where (the device's
    place as people say it, else the device by its name)."""
    what_zh, what_en = halves(rule.title)
    loc = device.location
    said_zh, said_en = place_text(loc.path if loc else None)
    where_zh = said_zh or device.name or device.id
    where_en = said_en or device.name_en or device.name or device.id
    return f"{what_zh} — {where_zh}"[:300], f"{what_en} — {where_en}"[:300]


def on_raised(
    *,
    session: Session,
    policy: SlaPolicy,
    raised: Raised,
    rule: Rule,
    device: Device,
    now: datetime,
) -> WorkOrder | None:
    """Give a raised alarm its work order: keep, re-attach, group, or open a new one."""
    alarm = raised.alarm
    if not rule.opens_order:
        return None
    if raised.outcome == Outcome.repeat and alarm.work_order_id is not None:
        return session.get(WorkOrder, alarm.work_order_id)  # nothing to decide, nothing to lock
    lock_order_flow(session)
    if alarm.work_order_id is not None:
        order = session.get(WorkOrder, alarm.work_order_id)
        if order is not None and order.status in _ACTIVE:
            if raised.outcome == Outcome.reopened:
                order.condition_cleared_at = None
                _note(
                    order,
                    action="alarm_recurred",
                    now=now,
                    note=f"alarm {alarm.id} ({alarm.type}) on {device.id} came back",
                )
                session.flush()
            return order
    order = _order_for_same_fault(session=session, alarm=alarm, rule=rule)
    action = "alarm_recurred"
    if order is not None and not _handles(session, order, alarm):
        action = "alarm_joined"
    if order is None:
        order = _order_for_group(session=session, alarm=alarm, device=device, rule=rule)
        action = "alarm_grouped"
    if order is not None:
        alarm.work_order_id = order.id
        order.condition_cleared_at = None
        _note(
            order,
            action=action,
            now=now,
            note=f"alarm {alarm.id} ({alarm.type}) on {device.id} attached",
        )
        raise_priority(
            session=session,
            policy=policy,
            order=order,
            priority=rule.priority,
            actor=ACTOR,
            now=now,
            note=f"alarm {alarm.id} ({alarm.type}) is {rule.priority}",
        )
        session.flush()
        return order
    order = open_order(
        session=session,
        policy=policy,
        now=now,
        site_id=device.site_id,
        title=_titles(rule, device)[0],
        title_en=_titles(rule, device)[1],
        source=Source.sensor,
        department=rule.department,
        priority=rule.priority,
        actor=ACTOR,
        description=(
            f"alarm {alarm.id}: {rule.type} on {device.id} "
            f"since {shown(alarm.raised_at, policy.zone)}"
        ),
        device_id=device.id,
        location_id=device.location_id,
    )
    alarm.work_order_id = order.id
    session.flush()
    return order


def on_cleared(*, session: Session, alarm: Alarm, now: datetime) -> None:
    """Note on the alarm's order when the last of its alarms has cleared."""
    if alarm.work_order_id is None:
        return
    order = session.get(WorkOrder, alarm.work_order_id)
    if order is None or order.status not in _ACTIVE:
        return
    lock_order_flow(session)
    still = session.scalar(
        select(Alarm.id).where(Alarm.work_order_id == order.id, Alarm.cleared_at.is_(None)).limit(1)
    )
    if still is None and order.condition_cleared_at is None:
        order.condition_cleared_at = now
        _note(
            order,
            action="condition_cleared",
            now=now,
            note=f"sensors report the condition gone (alarm {alarm.id} {alarm.type})",
        )
    session.flush()
