"""Hostile payloads: whatever a device sends, the decoder answers with a reading the hub can
store on SQLite and PostgreSQL alike, or with a dead-letter reason — never an exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import SPECS
from devices.base import (
    MAX_DEPTH,
    MAX_KEYS,
    MAX_MESSAGE_ID,
    MIN_TS,
    Reading,
    Reason,
    Rejected,
    decode,
)
from hub.signals.service import chain_digest

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _nested(depth: int) -> bytes:
    return b'{"leak": false, "x": ' + b"[" * depth + b"]" * depth + b"}"


HOSTILE = [
    (b'{"leak": false, "ts": "9999-12-31T23:59:59-14:00"}', Reason.timestamp_out_of_range),
    (b'{"leak": false, "ts": "0001-01-01T00:00:00+14:00"}', Reason.timestamp_out_of_range),
    (b'{"leak": false, "ts": "1969-12-31T23:59:59Z"}', Reason.timestamp_out_of_range),
    (b'{"leak": false, "ts": -1}', Reason.timestamp_out_of_range),
    (b'{"leak": false, "ts": 1e300}', Reason.timestamp_out_of_range),
    (b'{"leak": false, "ts": 253402300800000}', Reason.timestamp_out_of_range),
    (_nested(300), Reason.too_deep),
    (_nested(255), Reason.too_deep),
    (_nested(252), Reason.too_deep),
    (_nested(MAX_DEPTH), Reason.too_deep),
    (b'{"leak": false, "x": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}", Reason.too_deep),
    (b'{"leak": false, "n": 1180591620717411303424}', Reason.number_out_of_range),
    (b'{"leak": false, "n": -1180591620717411303424}', Reason.number_out_of_range),
    (b'{"leak": false, "n": 9223372036854775808}', Reason.number_out_of_range),
    (b'{"leak": false, "n": [1, {"m": 18446744073709551616}]}', Reason.number_out_of_range),
    (b'{"leak": false, "id": 99999999999999999999999}', Reason.number_out_of_range),
    (b'{"leak": false, "s": "a\\u0000b"}', Reason.nul_character),
    (b'{"leak": false, "\\u0000k": 1}', Reason.nul_character),
    (b'{"leak": false, "id": "m\\u0000"}', Reason.nul_character),
    (b'{"leak": false, "x": [["\\u0000"]]}', Reason.nul_character),
    (
        b'{"leak": false, ' + b", ".join(b'"k%d": 1' % n for n in range(MAX_KEYS)) + b"}",
        Reason.too_many_keys,
    ),
    (
        b'{"leak": false, "x": ['
        + b", ".join(b'{"a": 1, "b": 2}' for _ in range(MAX_KEYS // 2 + 1))
        + b"]}",
        Reason.too_many_keys,
    ),
    (b"x\x00", Reason.bad_json),
    (b'{"leak": false, "id": "' + b"m" * (MAX_MESSAGE_ID + 1) + b'"}', Reason.id_too_long),
]


@pytest.mark.parametrize(("payload", "reason"), HOSTILE)
def test_hostile_payloads_have_their_own_reason(payload: bytes, reason: Reason) -> None:
    with pytest.raises(Rejected) as err:
        decode(SPECS["leak"], "telemetry", payload, received_at=NOW)
    assert err.value.reason == reason


STILL_FINE = [
    _nested(MAX_DEPTH - 1),  # with the object around them, MAX_DEPTH levels exactly
    b'{"leak": false, "n": 9223372036854775807, "m": -9223372036854775808}',
    b'{"leak": false, "big": 1.5e300, "id": "12345678901234567890123"}',
    b'{"leak": false, "s": "a\\\\u0000b"}',  # an escaped backslash, then "u0000": no NUL
    b'{"leak": false, "ts": "1970-01-01T00:00:00Z"}',
    b'{"leak": false, "ts": "2026-11-24T00:04:00+14:00"}',
    b'{"leak": false, ' + b", ".join(b'"k%d": 1' % n for n in range(MAX_KEYS - 1)) + b"}",
]


@pytest.mark.parametrize("payload", STILL_FINE)
def test_unusual_but_storable_payloads_are_accepted(payload: bytes) -> None:
    _assert_storable(decode(SPECS["leak"], "telemetry", payload, received_at=NOW))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _assert_storable(reading: Reading) -> None:
    """What ingest does with a reading works, and the databases can hold what it writes."""
    assert MIN_TS <= reading.ts <= NOW + timedelta(minutes=5)
    text = orjson.dumps(reading.data)
    assert orjson.loads(text) == reading.data  # nothing changes on the way to a JSON column
    assert not any("\x00" in s for s in _strings(reading.data))
    assert not isinstance(reading.message_id, str) or "\x00" not in reading.message_id
    assert not isinstance(reading.message_id, str) or len(reading.message_id) <= MAX_MESSAGE_ID
    chain_digest(
        "0" * 64,
        device_id="d",
        channel=reading.channel,
        event_type=reading.event_type,
        ts=reading.ts,
        key=str(reading.message_id or "k"),
        payload=reading.data,
    )


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
)
deep = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)
timestamps = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda at, minutes: at.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
        st.datetimes(),
        st.integers(-14 * 60 + 1, 14 * 60 - 1),
    ),
    st.text(max_size=30),
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "leak": st.booleans(),
        "battery": st.integers(-5, 105) | st.floats(allow_nan=False),
        "on": st.booleans(),
        "arm": st.sampled_from(["up", "down", "moving", "\x00"]),
        "type": st.sampled_from(["arm_up", "fault", "refilled", "alarm_test", "x\x00"]),
        "item": st.sampled_from(["paper", "soap"]),
        "paper_pct": st.integers(0, 100),
        "ts": timestamps,
        "id": st.integers() | st.text(max_size=12),
        "extra": deep,
    },
)
HOSTILE_RUNS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@HOSTILE_RUNS
@given(
    kind=st.sampled_from(sorted(SPECS)),
    channel=st.sampled_from(["telemetry", "event", "status"]),
    doc=fields,
    depth=st.integers(0, 300),
)
def test_any_document_is_storable_or_refused(
    kind: str, channel: str, doc: dict[str, Any], depth: int
) -> None:
    if depth > 200:  # deep nesting, around and beyond what orjson and pydantic take
        doc = {**doc, "nest": orjson.loads(b"[" * depth + b"]" * depth)}
    # The standard library writes integers of any size (orjson refuses beyond 64 bits).
    _decode_or_refuse(kind, channel, json.dumps(doc, ensure_ascii=False).encode())


def _decode_or_refuse(kind: str, channel: str, body: bytes) -> None:
    try:
        reading = decode(SPECS[kind], channel, body, received_at=NOW)
    except Rejected as exc:
        reason: Reason | None = exc.reason
    else:
        reason = None
        _assert_storable(reading)
    assert reason is None or (reason in set(Reason) and reason != Reason.internal_error)


@HOSTILE_RUNS
@given(raw=st.binary(max_size=300), channel=st.sampled_from(["telemetry", "event", "status"]))
def test_any_bytes_are_storable_or_refused(raw: bytes, channel: str) -> None:
    _decode_or_refuse("gate", channel, raw)


def test_a_message_id_is_kept_whole_up_to_its_limit_and_typed() -> None:
    spec = SPECS["leak"]
    longest = "m" * MAX_MESSAGE_ID
    payload = orjson.dumps({"leak": False, "id": longest})
    assert decode(spec, "telemetry", payload, received_at=NOW).message_id == longest
    number = decode(spec, "telemetry", b'{"leak": false, "id": 777}', received_at=NOW)
    text = decode(spec, "telemetry", b'{"leak": false, "id": "777"}', received_at=NOW)
    assert (number.message_id, text.message_id) == (777, "777")
