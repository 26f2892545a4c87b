"""Availability: retained `status` with Last Will, and heartbeat timeouts (online/late/offline)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.engine import DeviceRules, RuleContext, fire, load, lock_device, settle
from hub.alarms.rules import OFFLINE
from hub.registry.enums import DeviceStatus
from hub.registry.models import Device

logger = logging.getLogger(__name__)

LATE_FACTOR = 1
OFFLINE_FACTOR = 2
"""Silent for one heartbeat timeout: late; for two: offline."""

LAST_SEEN_FRACTION = 10
LAST_SEEN_MAX_STEP = timedelta(seconds=30)


@cache
def last_seen_step(heartbeat_timeout_s: int) -> timedelta:
    """How far a device's stored last-seen time may lag the newest message.

    A tenth of its heartbeat timeout, at most 30 s. Ingest writes `last_seen_at` only when
    it moves by this much: a device reporting every few seconds would otherwise rewrite its
    registry row in every batch, which costs more than storing the signal. The heartbeat
    check adds the step, so lag never makes a device late early.
    """
    return min(timedelta(seconds=heartbeat_timeout_s) / LAST_SEEN_FRACTION, LAST_SEEN_MAX_STEP)


def seen(
    *, session: Session, ctx: RuleContext, dr: DeviceRules, at: datetime, now: datetime
) -> None:
    """The device spoke: it is online, and an offline alarm clears.

    The caller records `at` as the device's last-seen time (in bulk, once per batch).
    """
    ref = dr.ref
    if ref.status != DeviceStatus.online:
        dr.device.status = ref.status = DeviceStatus.online
        rule = ctx.rules.rule(ref.site_id, ref.kind, OFFLINE)
        if rule is not None:
            settle(session=session, dr=dr, rule=rule, at=at, now=now)


def went_offline(
    *, session: Session, ctx: RuleContext, dr: DeviceRules, at: datetime, now: datetime, why: str
) -> None:
    """The device is gone (Last Will or heartbeat): mark it and raise the offline alarm."""
    device = dr.device
    device.status = dr.ref.status = DeviceStatus.offline
    rule = ctx.rules.rule(device.site_id, device.kind, OFFLINE)
    if rule is not None:
        fire(
            session=session,
            ctx=ctx,
            dr=dr,
            rule=rule,
            at=at,
            now=now,
            detail={
                "why": why,
                "last_seen": device.last_seen_at.isoformat() if device.last_seen_at else None,
            },
        )
    logger.info("device %s offline (%s)", device.id, why)


def check_heartbeats(*, session: Session, ctx: RuleContext, now: datetime) -> dict[str, int]:
    """Mark silent devices late, then offline; returns how many of each changed.

    Late once silent for its heartbeat timeout plus the last-seen step, offline for twice
    the timeout plus the step: never early, at most a tenth late.
    """
    changed = {DeviceStatus.late.value: 0, DeviceStatus.offline.value: 0}
    candidates = session.scalars(
        select(Device)
        .where(
            Device.last_seen_at.is_not(None),
            Device.status.in_([DeviceStatus.online, DeviceStatus.late]),
        )
        .order_by(Device.id)
    ).all()
    gone: list[Device] = []
    silence: dict[str, int] = {}
    for device in candidates:
        assert device.last_seen_at is not None
        silent = now - device.last_seen_at
        silence[device.id] = int(silent.total_seconds())
        timeout = timedelta(seconds=device.heartbeat_timeout_s)
        lag = last_seen_step(device.heartbeat_timeout_s)
        if silent > timeout * OFFLINE_FACTOR + lag:
            gone.append(device)
        elif silent > timeout * LATE_FACTOR + lag and device.status != DeviceStatus.late:
            device.status = DeviceStatus.late
            changed[DeviceStatus.late] += 1
    # A device a bridge worker holds is being heard from right now: not offline.
    gone = [d for d in gone if lock_device(session=session, device_id=d.id)]
    if gone:
        rules = load(session=session, devices=gone, now=now)
        for device in gone:
            went_offline(
                session=session,
                ctx=ctx,
                dr=rules[device.id],
                at=now,
                now=now,
                why=f"no message for {silence[device.id]} s",
            )
            changed[DeviceStatus.offline] += 1
    session.flush()
    return changed
