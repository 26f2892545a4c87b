"""Ingest of a batch of MQTT messages: validate, dead-letter, deduplicate, store, evaluate.

One call is one unit of work: the caller (the bridge's batcher) commits once and only then
acknowledges the messages to the broker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from devices import SPECS
from devices.base import (
    SEGMENT,
    TOPIC_ROOT,
    Reading,
    Reason,
    Rejected,
    Topic,
    decode,
    parse_topic,
)
from hub.alarms import availability, engine
from hub.alarms.engine import RuleContext
from hub.registry.enums import DeviceStatus
from hub.registry.models import DeviceRef, Site
from hub.signals import bulk, changes
from hub.signals.changes import Changes
from hub.signals.service import (
    Incoming,
    chain_digest,
    dead_letter_row,
    idem_key,
    merged_state,
)

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch did."""

    accepted: int = 0
    duplicates: int = 0
    dead: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    changes: Changes = field(default_factory=Changes)
    quarantined: int = 0
    """Adapter messages of devices not registered yet, held for registration."""
    ignored: int = 0
    """Adapter traffic that is not device data (a gateway's own topics, commands)."""


@dataclass(frozen=True)
class _Accepted:
    message: Incoming
    topic: Topic
    device: DeviceRef
    reading: Reading


def _validate(
    *, session: Session, messages: Sequence[Incoming], result: BatchResult
) -> tuple[list[_Accepted], list[dict[str, Any]], set[str]]:
    """Accepted readings, dead-letter rows, and the devices that have a chain head."""
    dead: list[tuple[dict[str, Any], bool]] = []  # a row, and whether it was retained
    topics: list[tuple[Incoming, Topic]] = []
    unplaced: list[tuple[dict[str, Any], str | None]] = []  # rows of no registered device
    for message in messages:
        try:
            topics.append((message, parse_topic(message.topic)))
        except Rejected as exc:
            row = dead_letter_row(message, reason=exc.reason, detail=exc.detail)
            dead.append((row, message.retain))
            unplaced.append((row, _named_site(message.topic)))
    ids = sorted({t.device for _m, t in topics})
    devices, headed = bulk.device_refs(session=session, ids=ids)
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
            if message.refusal is not None:  # an adapter could not read it
                raise message.refusal
            reading = decode(
                SPECS[topic.kind], topic.channel, message.payload, received_at=message.received_at
            )
        except Rejected as exc:
            reason, detail = exc.reason, exc.detail
        except Exception as exc:  # a bug in a decoder: this message alone fails, not the batch
            logger.exception("decoding a message on %s failed", message.topic)
            reason, detail = Reason.internal_error, f"decoding failed: {type(exc).__name__}: {exc}"
        else:
            accepted.append(_Accepted(message, topic, device, reading))
            continue
        row = dead_letter_row(
            message,
            reason=reason,
            detail=detail,
            site_id=device.site_id if device else None,  # the registered device's site
            device_id=topic.device,
        )
        dead.append((row, message.retain))
        if device is None:
            unplaced.append((row, topic.site))
    _place(session, unplaced)
    rows = _without_replayed(session=session, dead=dead, result=result)
    for row in rows:
        result.reasons[row["reason"]] = result.reasons.get(row["reason"], 0) + 1
    result.dead = len(rows)
    return accepted, rows, headed


def _named_site(topic: str) -> str | None:
    """The site a topic names (`fh/{site}/...`), whether or not the rest of it is sound."""
    parts = topic.split("/")
    if len(parts) > 1 and parts[0] == TOPIC_ROOT and SEGMENT.match(parts[1]):
        return parts[1]
    return None


def _place(session: Session, unplaced: Sequence[tuple[dict[str, Any], str | None]]) -> None:
    """Dead letters of no registered device belong to the site their topic names, if it is
    one; else to none (administrators of every site see those)."""
    wanted = sorted({site for _row, site in unplaced if site})
    if not wanted:
        return
    known = set(session.scalars(select(Site.id).where(Site.id.in_(wanted))))
    for row, site in unplaced:
        if site in known:
            row["site_id"] = site


def _without_replayed(
    *,
    session: Session,
    dead: list[tuple[dict[str, Any], bool]],
    result: BatchResult,
) -> list[dict[str, Any]]:
    """The dead letters less the retained messages dead-lettered before (counted duplicates).

    The broker hands a retained message out again with every subscription: without this,
    one retained piece of junk would become a new dead letter on each reconnect.
    """
    replays = [(row["digest"], row["reason"]) for row, retained in dead if retained]
    known = bulk.known_dead_letters(session=session, wanted=replays) if replays else set()
    kept = [
        row for row, retained in dead if not (retained and (row["digest"], row["reason"]) in known)
    ]
    result.duplicates += len(dead) - len(kept)
    return kept


def ingest_batch(
    *,
    session: Session,
    ctx: RuleContext,
    messages: Sequence[Incoming],
    now: datetime,
    lock_turn: AbstractContextManager[None] | None = None,
) -> BatchResult:
    """Ingest `messages` in arrival order; the caller commits.

    `lock_turn` is held while the batch locks its devices' chain heads: the bridge passes
    one so that batches in progress at once lock in the order they arrived. The result's
    `changes` say what the batch did, for whoever acts on it after the commit.
    """
    result = BatchResult()
    with changes.tracking(session) as tracker:
        rows = _ingest(
            session=session, ctx=ctx, messages=messages, now=now, lock_turn=lock_turn, result=result
        )
    result.changes = tracker.changes(rows)
    return result


def _ingest(
    *,
    session: Session,
    ctx: RuleContext,
    messages: Sequence[Incoming],
    now: datetime,
    lock_turn: AbstractContextManager[None] | None,
    result: BatchResult,
) -> list[dict[str, Any]]:
    """`ingest_batch`'s work; the signal rows it stored."""
    accepted, dead, headed = _validate(session=session, messages=messages, result=result)
    if dead:
        bulk.insert_dead_letters(session=session, rows=dead)
    if not accepted:
        return []
    device_ids = sorted({a.device.id for a in accepted})
    with lock_turn or nullcontext():
        states = bulk.lock_heads(session=session, device_ids=device_ids, existing=headed, now=now)
    _refresh_availability(accepted, states)
    changing = bulk.load_devices(
        session=session,
        ids=sorted({a.device.id for a in accepted if a.device.status != DeviceStatus.online}),
    )
    keys = [(a, idem_key(a.message, a.reading)) for a in accepted]
    known = bulk.known_keys(session=session, pairs={(a.device.id, k) for a, k in keys})
    rules = engine.load(session=session, devices=[a.device for a in accepted], now=now)
    for loaded in changing:  # going online (or staying offline): changed through the ORM
        rules[loaded.id].loaded = loaded
    rows: list[dict[str, Any]] = []
    last_seen: dict[str, datetime] = {}
    for item, key in keys:
        ds = states[item.device.id]
        if (item.device.id, key) in known or _stale_retained_status(item):
            result.duplicates += 1
            ds.duplicate_count += 1
            ds.changed = True
            continue
        known.add((item.device.id, key))
        if item.message.from_state:
            item = _from_state(item, ds.state)
        device, reading = item.device, item.reading
        digest = chain_digest(
            ds.head_digest,
            device_id=device.id,
            channel=reading.channel,
            event_type=reading.event_type,
            ts=reading.ts,
            key=key,
            payload=reading.data,
            received_at=item.message.received_at,
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
        ds.changed = True
        _apply(
            session=session, ctx=ctx, dr=rules[device.id], ds=ds, item=item, now=now, seen=last_seen
        )
        result.accepted += 1
    _write_last_seen(session=session, rules=rules, seen=last_seen)
    if rows:
        bulk.insert_signals(session=session, rows=rows)
    bulk.write_heads(session=session, heads=list(states.values()), now=now)
    session.flush()
    return rows


def _from_state(item: _Accepted, state: dict[str, Any]) -> _Accepted:
    """The reading with the fields an adapter filled in provisionally taken from `state`.

    Tasmota reports a relay's state and its power in separate messages; a power reading
    carries the relay state the device's merged state holds, which only the lock makes
    current (a batch before this one may have just switched it).
    """
    known = {f: state[f] for f in item.message.from_state if f in state}
    if not known:
        return item
    return replace(item, reading=replace(item.reading, data={**item.reading.data, **known}))


def _refresh_availability(accepted: Sequence[_Accepted], states: dict[str, bulk.Head]) -> None:
    """Give the devices the status and last-seen time read under their lock."""
    for item in accepted:
        device, head = item.device, states[item.device.id]
        device.status, device.last_seen_at = head.status, head.last_seen_at


def _write_last_seen(
    *, session: Session, rules: dict[str, engine.DeviceRules], seen: dict[str, datetime]
) -> None:
    """Advance the devices' last-seen times with one statement for the batch.

    Only where the time moved by the device's last-seen step (`availability.last_seen_step`).
    A device loaded as an ORM object in this batch gets the new value as committed state,
    so the ORM does not also write one UPDATE per device.
    """
    rows: dict[str, datetime] = {}
    for device_id, at in seen.items():
        dr = rules[device_id]
        ref = dr.ref
        if ref.last_seen_at is None or (
            at - ref.last_seen_at >= availability.last_seen_step(ref.heartbeat_timeout_s)
        ):
            ref.last_seen_at = rows[device_id] = at
            if dr.loaded is not None:
                set_committed_value(dr.loaded, "last_seen_at", at)
    if rows:
        bulk.update_last_seen(session=session, seen=rows)


@cache
def _interpreted(kind: str) -> frozenset[str]:
    """The telemetry fields a kind's schema names (the rules read them from the state)."""
    return frozenset(SPECS[kind].telemetry.model_fields)


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
    ds: bulk.Head,
    item: _Accepted,
    now: datetime,
    seen: dict[str, datetime],
) -> None:
    """Availability, merged state and rules for one accepted reading."""
    reading = item.reading
    device_id = item.device.id
    if reading.channel == "status":
        if reading.data["status"] == "online":
            availability.seen(session=session, ctx=ctx, dr=dr, at=reading.ts, now=now)
            seen[device_id] = max(reading.ts, seen.get(device_id, reading.ts))
        else:
            availability.went_offline(
                session=session, ctx=ctx, dr=dr, at=reading.ts, now=now, why="status offline"
            )
        return
    availability.seen(session=session, ctx=ctx, dr=dr, at=item.message.received_at, now=now)
    at = item.message.received_at
    seen[device_id] = max(at, seen.get(device_id, at))
    if reading.channel == "telemetry":
        if ds.state_ts is not None and reading.ts < ds.state_ts:
            return  # late arrival: kept as a signal, but the newer state stands
        ds.state = merged_state(ds.state, reading.data, _interpreted(item.device.kind))
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
