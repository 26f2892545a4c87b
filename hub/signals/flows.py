"""Ingest of a batch of MQTT messages: validate, dead-letter, deduplicate, store, evaluate.

One call is one unit of work: the caller (the bridge's batcher) commits once and only then
acknowledges the messages to the broker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from devices import SPECS
from devices.base import Reading, Reason, Rejected, Topic, decode, parse_topic
from hub.alarms import availability, engine
from hub.alarms.engine import RuleContext
from hub.registry.models import Device
from hub.signals.models import DeadLetter, DeviceState, Signal
from hub.signals.service import GENESIS, Incoming, chain_digest, dead_letter_row, idem_key

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch did."""

    accepted: int = 0
    duplicates: int = 0
    dead: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Accepted:
    message: Incoming
    topic: Topic
    device: Device
    reading: Reading


def _lock_states(
    *, session: Session, device_ids: list[str], now: datetime
) -> dict[str, DeviceState]:
    """The devices' state rows, created if missing, locked in id order (no deadlocks)."""
    dialect = session.get_bind().dialect.name
    existing = set(
        session.scalars(select(DeviceState.device_id).where(DeviceState.device_id.in_(device_ids)))
    )
    missing: list[dict[str, Any]] = [
        {
            "device_id": i,
            "state": {},
            "state_ts": None,
            "head_digest": GENESIS,
            "signal_count": 0,
            "duplicate_count": 0,
            "updated_at": now,
        }
        for i in device_ids
        if i not in existing
    ]
    if missing:
        stmt: Any
        if dialect == "postgresql":
            stmt = postgresql.insert(DeviceState).on_conflict_do_nothing()
        elif dialect == "sqlite":
            stmt = sqlite.insert(DeviceState).on_conflict_do_nothing()
        else:  # pragma: no cover - the hub runs on SQLite and PostgreSQL
            stmt = insert(DeviceState)
        session.execute(stmt, missing)
    rows = session.scalars(
        select(DeviceState)
        .where(DeviceState.device_id.in_(device_ids))
        .order_by(DeviceState.device_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.device_id: row for row in rows}


def _validate(
    *, session: Session, messages: Sequence[Incoming], result: BatchResult
) -> tuple[list[_Accepted], list[dict[str, Any]]]:
    dead: list[dict[str, Any]] = []
    topics: list[tuple[Incoming, Topic]] = []
    for message in messages:
        try:
            topics.append((message, parse_topic(message.topic)))
        except Rejected as exc:
            dead.append(dead_letter_row(message, reason=exc.reason, detail=exc.detail))
    ids = sorted({t.device for _m, t in topics})
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(ids)))}
    accepted: list[_Accepted] = []
    for message, topic in topics:
        device = devices.get(topic.device)
        try:
            if device is None:
                raise Rejected(Reason.unknown_device, f"no device {topic.device!r} is registered")
            if device.site_id != topic.site:
                raise Rejected(Reason.wrong_site, f"device is registered in {device.site_id}")
            if device.kind != topic.kind:
                raise Rejected(Reason.wrong_kind, f"device is a {device.kind}")
            reading = decode(
                SPECS[topic.kind], topic.channel, message.payload, received_at=message.received_at
            )
        except Rejected as exc:
            dead.append(
                dead_letter_row(
                    message,
                    reason=exc.reason,
                    detail=exc.detail,
                    site_id=device.site_id if device is not None else topic.site,
                    device_id=topic.device,
                )
            )
            continue
        accepted.append(_Accepted(message, topic, device, reading))
    for row in dead:
        result.reasons[row["reason"]] = result.reasons.get(row["reason"], 0) + 1
    result.dead = len(dead)
    return accepted, dead


def ingest_batch(
    *, session: Session, ctx: RuleContext, messages: Sequence[Incoming], now: datetime
) -> BatchResult:
    """Ingest `messages` in arrival order; the caller commits."""
    result = BatchResult()
    accepted, dead = _validate(session=session, messages=messages, result=result)
    if dead:
        session.execute(insert(DeadLetter), dead)
    if not accepted:
        return result
    device_ids = sorted({a.device.id for a in accepted})
    states = _lock_states(session=session, device_ids=device_ids, now=now)
    keys = [(a, idem_key(a.message, a.reading)) for a in accepted]
    known: set[tuple[str, str]] = {
        (device_id, key)
        for device_id, key in session.execute(
            select(Signal.device_id, Signal.idem_key).where(
                Signal.device_id.in_(device_ids), Signal.idem_key.in_({k for _a, k in keys})
            )
        )
    }
    rules = engine.load(session=session, devices=[a.device for a in accepted], now=now)
    rows: list[dict[str, Any]] = []
    for item, key in keys:
        device, reading = item.device, item.reading
        ds = states[device.id]
        if (device.id, key) in known or _stale_retained_status(item):
            result.duplicates += 1
            ds.duplicate_count += 1
            continue
        known.add((device.id, key))
        digest = chain_digest(
            ds.head_digest,
            device_id=device.id,
            channel=reading.channel,
            event_type=reading.event_type,
            ts=reading.ts,
            key=key,
            payload=reading.data,
        )
        rows.append(
            {
                "device_id": device.id,
                "site_id": device.site_id,
                "kind": device.kind,
                "channel": reading.channel,
                "type": reading.event_type,
                "ts": reading.ts,
                "received_at": item.message.received_at,
                "idem_key": key,
                "payload": reading.data,
                "prev_digest": ds.head_digest,
                "digest": digest,
            }
        )
        ds.head_digest = digest
        ds.signal_count += 1
        ds.updated_at = now
        _apply(session=session, ctx=ctx, dr=rules[device.id], ds=ds, item=item, now=now)
        result.accepted += 1
    if rows:
        session.execute(insert(Signal), rows)
    session.flush()
    return result


def _stale_retained_status(item: _Accepted) -> bool:
    """A retained status replayed on (re)subscription that says nothing new."""
    return (
        item.reading.channel == "status"
        and item.message.retain
        and item.reading.data.get("status") == item.device.status
    )


def _apply(
    *,
    session: Session,
    ctx: RuleContext,
    dr: engine.DeviceRules,
    ds: DeviceState,
    item: _Accepted,
    now: datetime,
) -> None:
    """Availability, merged state and rules for one accepted reading."""
    reading = item.reading
    if reading.channel == "status":
        if reading.data["status"] == "online":
            availability.seen(session=session, ctx=ctx, dr=dr, at=reading.ts, now=now)
        else:
            availability.went_offline(
                session=session, ctx=ctx, dr=dr, at=reading.ts, now=now, why="status offline"
            )
        return
    availability.seen(session=session, ctx=ctx, dr=dr, at=item.message.received_at, now=now)
    if reading.channel == "telemetry":
        if ds.state_ts is not None and reading.ts < ds.state_ts:
            return  # late arrival: kept as a signal, but the newer state stands
        ds.state = {**ds.state, **reading.data}
        ds.state_ts = reading.ts
        engine.on_state(session=session, ctx=ctx, dr=dr, state=ds.state, at=reading.ts, now=now)
    elif reading.event_type is not None:
        event = {k: v for k, v in reading.data.items() if k != "type"}
        engine.on_event(
            session=session,
            ctx=ctx,
            dr=dr,
            state=ds.state,
            event_type=reading.event_type,
            event=event,
            at=reading.ts,
            now=now,
        )
