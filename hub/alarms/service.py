"""Alarm service: raise (deduplicated, cooled down, flap-damped), clear, acknowledge, list."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from devices.base import Rule
from hub.alarms.enums import AlarmStatus, Outcome
from hub.alarms.models import Alarm
from hub.errors import Conflict, NotFound
from hub.registry.models import Device

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Raised:
    """The alarm a raise touched and how."""

    alarm: Alarm
    outcome: Outcome


def uncleared(*, session: Session, device_id: str, alarm_type: str) -> Alarm | None:
    """The uncleared alarm of this device and type, if any."""
    return session.scalar(
        select(Alarm).where(
            Alarm.device_id == device_id, Alarm.type == alarm_type, Alarm.cleared_at.is_(None)
        )
    )


def _repeat(alarm: Alarm, *, at: datetime, detail: dict[str, Any]) -> Raised:
    alarm.count += 1
    alarm.last_seen_at = max(alarm.last_seen_at, at)
    alarm.clear_pending_since = None
    alarm.detail = detail
    return Raised(alarm, Outcome.repeat)


def raise_alarm(
    *, session: Session, device: Device, rule: Rule, at: datetime, detail: dict[str, Any]
) -> Raised:
    """Raise `rule` on `device`: a repeat counts, a recurrence within cooldown reopens.

    A second writer racing on the same (device, type) hits the unique partial index; the
    loser turns its insert into a repeat instead of failing.
    """
    current = uncleared(session=session, device_id=device.id, alarm_type=rule.type)
    if current is not None:
        return _repeat(current, at=at, detail=detail)
    recent = session.scalar(
        select(Alarm)
        .where(
            Alarm.device_id == device.id,
            Alarm.type == rule.type,
            Alarm.cleared_at >= at - timedelta(seconds=rule.cooldown_s),
            Alarm.cleared_by.is_(None),
        )
        .order_by(Alarm.cleared_at.desc())
        .limit(1)
    )
    if recent is not None:
        return _reopen(session=session, alarm=recent, rule=rule, at=at, detail=detail)
    alarm = Alarm(
        site_id=device.site_id,
        device_id=device.id,
        type=rule.type,
        severity=rule.severity,
        title=rule.title,
        raised_at=at,
        last_seen_at=at,
        count=1,
        detail=detail,
        reopen_count=0,
        flapping=False,
        flap_window_start=at,
        flap_changes=1,
    )
    try:
        with session.begin_nested():
            session.add(alarm)
            session.flush()
    except IntegrityError:
        current = uncleared(session=session, device_id=device.id, alarm_type=rule.type)
        if current is None:
            raise
        return _repeat(current, at=at, detail=detail)
    logger.info("alarm %s raised: %s on %s", alarm.id, rule.type, device.id)
    return Raised(alarm, Outcome.new)


def _reopen(
    *, session: Session, alarm: Alarm, rule: Rule, at: datetime, detail: dict[str, Any]
) -> Raised:
    """Bring a just-cleared alarm back; count changes in the flap window."""
    alarm.cleared_at = None
    alarm.cleared_by = None
    alarm.count += 1
    alarm.reopen_count += 1
    alarm.last_seen_at = max(alarm.last_seen_at, at)
    alarm.detail = detail
    alarm.acked_at = None
    alarm.acked_by = None
    if at - alarm.flap_window_start > timedelta(seconds=rule.flap_window_s):
        alarm.flap_window_start = at
        alarm.flap_changes = 1
    else:
        alarm.flap_changes += 1
    if alarm.flap_changes >= rule.flap_count and not alarm.flapping:
        alarm.flapping = True
        logger.warning("alarm %s (%s on %s) is flapping", alarm.id, rule.type, alarm.device_id)
    session.flush()
    return Raised(alarm, Outcome.reopened)


def quiet_period(rule: Rule, alarm: Alarm) -> timedelta:
    """How long the condition must stay gone before the alarm clears.

    The rule's own delay (a leak clears after two dry minutes), or the longer quiet period
    of a flapping alarm.
    """
    return timedelta(seconds=max(rule.clear_for_s, rule.flap_quiet_s if alarm.flapping else 0))


def clear_condition(
    *, session: Session, device_id: str, rule: Rule, at: datetime, at_once: bool = False
) -> Alarm | None:
    """The condition is gone: clear the alarm, or start its quiet period.

    `at_once` (an explicit all-clear such as a refill) skips the quiet period. Returns the
    alarm if it was cleared now.
    """
    alarm = uncleared(session=session, device_id=device_id, alarm_type=rule.type)
    if alarm is None:
        return None
    quiet = quiet_period(rule, alarm)
    if quiet and not at_once:
        if alarm.clear_pending_since is None:
            alarm.clear_pending_since = at
        if at - alarm.clear_pending_since < quiet:
            session.flush()
            return None
    alarm.flapping = False
    alarm.cleared_at = at
    alarm.clear_pending_since = None
    session.flush()
    logger.info("alarm %s cleared: %s on %s", alarm.id, rule.type, device_id)
    return alarm


def pending_clears(*, session: Session, now: datetime) -> Sequence[Alarm]:
    """Alarms in their quiet period (the job checks each against its rule)."""
    return session.scalars(
        select(Alarm).where(
            Alarm.cleared_at.is_(None),
            Alarm.clear_pending_since.is_not(None),
            Alarm.clear_pending_since <= now,
        )
    ).all()


def get_alarm(*, session: Session, alarm_id: int, site_ids: frozenset[str]) -> Alarm:
    """The alarm with this id if it is in one of `site_ids`."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or alarm.site_id not in site_ids:
        raise NotFound(f"alarm {alarm_id} not found")
    return alarm


def acknowledge(*, session: Session, alarm: Alarm, actor: str, now: datetime) -> Alarm:
    """Someone has seen the alarm; acknowledging twice keeps the first acknowledgement."""
    if alarm.acked_at is None:
        alarm.acked_at = now
        alarm.acked_by = actor
        session.flush()
    return alarm


def clear_by_hand(*, session: Session, alarm: Alarm, actor: str, now: datetime) -> Alarm:
    """Clear an alarm whose condition the sensors cannot see go away (e.g. an event alarm)."""
    if alarm.cleared_at is not None:
        raise Conflict(f"alarm {alarm.id} is already cleared")
    alarm.cleared_at = now
    alarm.cleared_by = actor
    alarm.flapping = False
    alarm.clear_pending_since = None
    session.flush()
    return alarm


def list_alarms(
    *,
    session: Session,
    site_ids: frozenset[str],
    status: AlarmStatus = AlarmStatus.open,
    site: str | None = None,
    device_id: str | None = None,
    alarm_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Alarm]:
    """Alarms in the caller's sites, newest first."""
    query = select(Alarm).where(Alarm.site_id.in_(site_ids))
    if site is not None:
        query = query.where(Alarm.site_id == site)
    if device_id is not None:
        query = query.where(Alarm.device_id == device_id)
    if alarm_type is not None:
        query = query.where(Alarm.type == alarm_type)
    if status == AlarmStatus.open:
        query = query.where(Alarm.cleared_at.is_(None))
    elif status == AlarmStatus.active:
        query = query.where(Alarm.cleared_at.is_(None), Alarm.acked_at.is_(None))
    elif status == AlarmStatus.acked:
        query = query.where(Alarm.cleared_at.is_(None), Alarm.acked_at.is_not(None))
    elif status == AlarmStatus.cleared:
        query = query.where(Alarm.cleared_at.is_not(None))
    query = query.order_by(Alarm.last_seen_at.desc(), Alarm.id.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()


def summary(alarm: Alarm) -> dict[str, Any]:
    """The short form of an alarm shown in a device's `active_alarms`."""
    return {
        "id": alarm.id,
        "type": alarm.type,
        "severity": alarm.severity,
        "title": alarm.title,
        "status": alarm.status,
        "raised_at": alarm.raised_at,
        "last_seen_at": alarm.last_seen_at,
        "count": alarm.count,
        "work_order_id": alarm.work_order_id,
    }


def active_by_device(
    *, session: Session, device_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """Uncleared alarms of each device, as summaries."""
    ids = list(device_ids)
    result: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return result
    rows = session.scalars(
        select(Alarm)
        .where(Alarm.device_id.in_(ids), Alarm.cleared_at.is_(None))
        .order_by(Alarm.raised_at, Alarm.id)
    )
    for alarm in rows:
        result.setdefault(alarm.device_id, []).append(summary(alarm))
    return result


def ids_by_order(*, session: Session, order_ids: Iterable[int]) -> dict[int, list[int]]:
    """The alarms linked to each work order."""
    ids = list(order_ids)
    result: dict[int, list[int]] = {}
    if not ids:
        return result
    rows = session.execute(
        select(Alarm.work_order_id, Alarm.id).where(Alarm.work_order_id.in_(ids)).order_by(Alarm.id)
    )
    for order_id, alarm_id in rows:
        if order_id is not None:
            result.setdefault(order_id, []).append(alarm_id)
    return result


def standing_of_order(*, session: Session, order_id: int) -> list[Alarm]:
    """The order's alarms whose condition still stands (not cleared)."""
    return list(
        session.scalars(
            select(Alarm)
            .where(Alarm.work_order_id == order_id, Alarm.cleared_at.is_(None))
            .order_by(Alarm.id)
        )
    )
