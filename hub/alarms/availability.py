"""Availability: retained `status` with Last Will, and heartbeat timeouts (online/late/offline)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session

from hub.alarms.engine import DeviceRules, RuleContext, fire, settle
from hub.alarms.rules import OFFLINE
from hub.registry.enums import DeviceStatus

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
