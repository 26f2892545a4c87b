"""Signal service: idempotency keys, the per-device hash chain, dead letters, queries."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from devices.base import MAX_PAYLOAD_BYTES, Reading, Reason, Rejected
from hub.signals.models import DeadLetter, Signal

GENESIS = "0" * 64
"""The `prev_digest` of a device's first signal."""

DEAD_PAYLOAD_CHARS = 1024
"""A dead letter's readable payload: the first this many characters."""
DEAD_RAW_BYTES = MAX_PAYLOAD_BYTES
"""A dead letter's original bytes: every byte of a message within the contract's size."""

STATE_EXTRAS = 16
"""Fields beyond the kind's own that a device's merged state keeps, the newest first."""
STATE_EXTRA_KEY_CHARS = 64
STATE_EXTRA_VALUE_BYTES = 256
"""An extra field with a longer name or a larger value (as JSON) stays in its signal only."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What PostgreSQL text cannot hold: U+0000, and surrogates (not valid UTF-8 on their own)."""


@dataclass(frozen=True)
class Incoming:
    """An MQTT message as the bridge received it."""

    topic: str
    payload: bytes
    received_at: datetime
    qos: int = 0
    retain: bool = False
    mid: int = 0
    origin_topic: str | None = None
    """For a message an adapter translated: the topic it came on (`topic` is the hub's)."""
    origin_payload: bytes | None = None
    """For a message an adapter translated: the bytes as sent (`payload` is the reading)."""
    refusal: Rejected | None = None
    """An adapter's refusal of the payload: dead-lettered once the device is known."""
    from_state: tuple[str, ...] = ()
    """Fields an adapter could not read in this message and filled in provisionally: the
    device's merged state, read under its lock, gives them when it has them."""


def idem_key(message: Incoming, reading: Reading) -> str:
    """The message's idempotency key: its `id`, or a digest of topic, time and payload.

    A string id is `id:<id>`, an integer one `n:<id>`: the integer 777 and the string "777"
    are different messages. The id is whole (`devices.base.MAX_MESSAGE_ID` bounds it).

    A retained reading without `id` or `ts` comes again with every subscription, each time
    with a new receipt time: its key is the topic and payload alone, so it is stored once.
    (Status is not keyed so: a retained status is judged against the device's status.)
    """
    if isinstance(reading.message_id, int):
        return f"n:{reading.message_id}"
    if reading.message_id is not None:
        return f"id:{reading.message_id}"
    if message.retain and not reading.stamped and reading.channel != "status":
        return "r:" + message_digest(message.topic, message.payload)[:48]
    digest = hashlib.sha256()
    digest.update(message.topic.encode())
    digest.update(b"\0" + reading.ts.isoformat().encode() + b"\0")
    digest.update(message.payload)
    return "h:" + digest.hexdigest()[:48]


def chain_digest(
    prev: str,
    *,
    device_id: str,
    channel: str,
    event_type: str | None,
    ts: datetime,
    key: str,
    payload: dict[str, Any],
    received_at: datetime | None = None,
) -> str:
    """The digest linking a signal to the previous one of its device.

    Links written since the receipt time entered the chain (link format 2) cover when the
    hub took the signal (`received_at`) as a seventh member, `{"received_at": ISO}`; older
    links (format 1, without it) stay verifiable as they were written.
    """
    parts: list[Any] = [device_id, channel, event_type, ts.isoformat(), key, payload]
    if received_at is not None:
        parts.append({"received_at": received_at.isoformat()})
    body = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev.encode() + body).hexdigest()


def merged_state(
    state: dict[str, Any], data: dict[str, Any], interpreted: frozenset[str]
) -> dict[str, Any]:
    """A device's state with a reading's fields on top, bounded in size.

    The fields the kind interprets are always kept. Other fields (the contract keeps them
    but does not interpret them) are kept in the state only if small, and at most
    `STATE_EXTRAS` of them, the newest reading's first: a device sending a new large key
    with every message would otherwise grow its state row without bound. Every field stays
    in the signal that brought it.
    """
    merged = {**state, **data}
    if all(key in interpreted for key in merged):
        return merged
    bounded = {key: value for key, value in merged.items() if key in interpreted}
    newest_first = [key for key in data if key not in interpreted]
    newest_first += [key for key in state if key not in interpreted and key not in data]
    kept = 0
    for key in newest_first:
        if kept == STATE_EXTRAS:
            break
        value = merged[key]
        if len(key) <= STATE_EXTRA_KEY_CHARS and (
            isinstance(value, bool | int | float | None)
            or len(orjson.dumps(value)) <= STATE_EXTRA_VALUE_BYTES
        ):
            bounded[key] = value
            kept += 1
    return bounded


def storable_text(text: str) -> str:
    """`text` with U+0000 and lone surrogates written as `\\uXXXX`, which any text column holds."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def message_digest(topic: str, payload: bytes) -> str:
    """SHA-256 of a message's topic and payload: what makes two deliveries the same message."""
    digest = hashlib.sha256(topic.encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(payload)
    return digest.hexdigest()


def dead_letter_row(
    message: Incoming,
    *,
    reason: Reason,
    detail: str,
    site_id: str | None = None,
    device_id: str | None = None,
) -> dict[str, Any]:
    """A dead-letter row for a Core insert: readable text, the original bytes, never lost.

    Topic, payload and detail are made storable (`storable_text`) so that the row can always
    be written, whatever the message held; `payload_base64` keeps the bytes as they came.
    """
    # what the device sent, not an adapter's translation of it
    topic = message.origin_topic if message.origin_topic is not None else message.topic
    payload = message.origin_payload if message.origin_payload is not None else message.payload
    text = payload[: DEAD_PAYLOAD_CHARS * 4].decode("utf-8", "replace")
    return {
        "received_at": message.received_at,
        "topic": storable_text(topic)[:512],
        "payload": storable_text(text[:DEAD_PAYLOAD_CHARS])[: DEAD_PAYLOAD_CHARS * 6],
        "payload_bytes": len(payload),
        "reason": reason.value,
        "detail": storable_text(detail)[:1000],
        "site_id": site_id,
        "device_id": device_id,
        "payload_base64": base64.b64encode(payload[:DEAD_RAW_BYTES]).decode("ascii"),
        "digest": message_digest(topic, payload),
    }


def list_signals(
    *,
    session: Session,
    device_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str | None = None,
    limit: int = 500,
) -> Sequence[Signal]:
    """A device's signals in time order, between `since` (inclusive) and `until` (exclusive)."""
    query = select(Signal).where(Signal.device_id == device_id)
    if since is not None:
        query = query.where(Signal.ts >= since)
    if until is not None:
        query = query.where(Signal.ts < until)
    if channel is not None:
        query = query.where(Signal.channel == channel)
    return session.scalars(query.order_by(Signal.ts, Signal.id).limit(limit)).all()


def verify_chain(*, session: Session, device_id: str) -> tuple[bool, int]:
    """Recompute the device's hash chain; (intact, number of signals checked)."""
    prev = GENESIS
    checked = 0
    for signal in session.scalars(
        select(Signal).where(Signal.device_id == device_id).order_by(Signal.id)
    ):
        fields: dict[str, Any] = {
            "device_id": signal.device_id,
            "channel": signal.channel,
            "event_type": signal.type,
            "ts": signal.ts,
            "key": signal.idem_key,
            "payload": signal.payload,
        }
        matches = signal.digest in (
            chain_digest(prev, **fields, received_at=signal.received_at),
            chain_digest(prev, **fields),  # a link of format 1, from before the receipt time
        )
        if signal.prev_digest != prev or not matches:
            return False, checked
        prev = signal.digest
        checked += 1
    return True, checked


def list_dead_letters(
    *,
    session: Session,
    site_ids: frozenset[str],
    unattributed: bool = False,
    reason: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[DeadLetter], dict[str, int]]:
    """Dead letters of `site_ids` newest first, and the count per reason.

    A dead letter belongs to the site its topic names; `unattributed` adds those whose topic
    named no site at all (a malformed topic).
    """
    scope: ColumnElement[bool] = DeadLetter.site_id.in_(site_ids)
    if unattributed:
        scope = or_(scope, DeadLetter.site_id.is_(None))
    query = select(DeadLetter).where(scope)
    counts = select(DeadLetter.reason, func.count()).where(scope).group_by(DeadLetter.reason)
    if reason is not None:
        query = query.where(DeadLetter.reason == reason)
    items = session.scalars(
        query.order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return items, {r: int(n) for r, n in session.execute(counts)}
