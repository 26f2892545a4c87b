"""The pipeline's timed work: duration rules that fire with no further message, and devices
gone silent marked late, then offline.

Both run from the scheduler and change what ingest changes (rule states, alarms, device
availability), so each takes the device's `device_states` row first, as an ingest batch
does: on PostgreSQL a device a bridge worker holds right now is skipped until the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.base import Rule
from hub.alarms import flows
from hub.alarms.availability import LATE_FACTOR, OFFLINE_FACTOR, last_seen_step, went_offline
from hub.alarms.engine import RuleContext, fire, load
from hub.alarms.models import RuleState
from hub.alarms.service import clear_condition, pending_clears, quiet_period
from hub.registry.enums import DeviceStatus
from hub.registry.models import Device
from hub.signals.models import DeviceState

logger = logging.getLogger(__name__)


def lock_device(*, session: Session, device_id: str) -> bool:
    """Serialise with bridge workers on the device's state row (PostgreSQL: skip if busy)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    row = session.execute(
        select(DeviceState.device_id)
        .where(DeviceState.device_id == device_id)
        .with_for_update(skip_locked=True)
    ).first()
    if row is not None:
        return True
    exists = session.scalar(select(DeviceState.device_id).where(DeviceState.device_id == device_id))
    return exists is None


def evaluate_durations(*, session: Session, ctx: RuleContext, now: datetime) -> int:
    """Fire duration rules whose condition has held long enough with no further message.

    Also ends the quiet period of flapping alarms. Returns how many alarms it fired.
    """
    fired = 0
    rows = session.execute(
        select(RuleState, Device)
        .join(Device, Device.id == RuleState.device_id)
        .where(RuleState.since.is_not(None), RuleState.fired.is_(False))
        .order_by(RuleState.device_id)
    ).all()
    due: dict[str, list[tuple[RuleState, Rule]]] = {}
    for rule_state, device in rows:
        rule = ctx.rules.rule(device.site_id, device.kind, rule_state.rule)
        if rule is None or rule.event is not None or rule.for_s <= 0:
            continue
        assert rule_state.since is not None
        if rule_state.since + timedelta(seconds=rule.for_s) <= now:
            due.setdefault(device.id, []).append((rule_state, rule))
    for device_id in sorted(due):
        if not lock_device(session=session, device_id=device_id):
            continue  # a bridge worker holds it; the next run will see it
        dr = load(session=session, devices=[session.get_one(Device, device_id)], now=now)[device_id]
        for stale, rule in due[device_id]:
            current = dr.states.get(stale.rule)
            if current is None or current.since is None or current.fired:
                continue
            current.fired = True
            current.updated_at = now
            state = session.scalar(
                select(DeviceState.state).where(DeviceState.device_id == device_id)
            )
            fire(
                session=session,
                ctx=ctx,
                dr=dr,
                rule=rule,
                at=current.since + timedelta(seconds=rule.for_s),
                now=now,
                detail={"since": current.since.isoformat(), "state": dict(state or {})},
            )
            fired += 1
    for alarm in pending_clears(session=session, now=now):
        device = session.get_one(Device, alarm.device_id)
        rule = ctx.rules.rule(device.site_id, device.kind, alarm.type)
        if rule is None or alarm.clear_pending_since is None:
            continue
        if alarm.clear_pending_since + quiet_period(rule, alarm) <= now:
            cleared = clear_condition(session=session, device_id=device.id, rule=rule, at=now)
            if cleared is not None:
                flows.on_cleared(session=session, alarm=cleared, now=now)
    session.flush()
    return fired


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
