"""Payload parsing per kind: the contract's fields, timestamps, and everything that is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import SPECS
from devices.base import MAX_PAYLOAD_BYTES, Reason, Rejected, decode, parse_topic, parse_ts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _decode(kind: str, channel: str, doc: object) -> object:
    return decode(SPECS[kind], channel, orjson.dumps(doc), received_at=NOW)


ACCEPTED = [
    ("leak", "telemetry", {"leak": True, "battery": 88, "flow_lpm": 12.5, "tamper": False}),
    ("leak", "telemetry", {"leak": False, "vendor_rssi": -71}),
    ("light", "telemetry", {"on": True, "power_w": 0.2, "lux": 0, "motion": False}),
    ("restroom", "telemetry", {"paper_pct": 3, "visits": 412}),
    ("restroom", "telemetry", {"soap_pct": 55.5}),
    ("gate", "telemetry", {"arm": "down", "loop_occupied": True, "fault": None}),
    ("gate", "telemetry", {"arm": "moving", "fault": "E07"}),
    ("gate", "event", {"type": "arm_down", "source": "manual_button", "loop_occupied": True}),
    ("gate", "event", {"type": "vehicle_in", "plate": "粤B12345"}),
    ("gate", "event", {"type": "obstruction"}),
    ("gate", "event", {"type": "fault", "code": 7}),
    ("light", "event", {"type": "switched", "on": False, "source": "timer"}),
    ("light", "event", {"type": "fault", "code": "driver"}),
    ("leak", "event", {"type": "alarm_test"}),
    ("restroom", "event", {"type": "refilled", "item": "paper"}),
]

REFUSED = [
    ("leak", "telemetry", {"battery": 50}, Reason.invalid_payload),
    ("leak", "telemetry", {"leak": "yes"}, Reason.invalid_payload),
    ("leak", "telemetry", {"leak": True, "battery": 101}, Reason.invalid_payload),
    ("leak", "telemetry", {"leak": True, "flow_lpm": -1}, Reason.invalid_payload),
    ("light", "telemetry", {"power_w": 3}, Reason.invalid_payload),
    ("light", "telemetry", {"on": 1}, Reason.invalid_payload),
    ("restroom", "telemetry", {"visits": 3}, Reason.invalid_payload),
    ("restroom", "telemetry", {"paper_pct": 120}, Reason.invalid_payload),
    ("gate", "telemetry", {"arm": "sideways"}, Reason.invalid_payload),
    ("gate", "event", {"type": "arm_up", "source": "child"}, Reason.invalid_payload),
    ("gate", "event", {"type": "teleport"}, Reason.unknown_event),
    ("gate", "event", {"source": "auto"}, Reason.invalid_payload),
    ("restroom", "event", {"type": "refilled", "item": "beer"}, Reason.invalid_payload),
    ("leak", "telemetry", ["not", "an", "object"], Reason.not_object),
    ("leak", "telemetry", {"leak": True, "ts": "2026-11-23T10:00:00"}, Reason.bad_timestamp),
    ("leak", "telemetry", {"leak": True, "ts": "yesterday"}, Reason.bad_timestamp),
    ("leak", "telemetry", {"leak": True, "ts": True}, Reason.bad_timestamp),
    ("leak", "telemetry", {"leak": True, "ts": "2026-11-23T10:06:00Z"}, Reason.future_timestamp),
    ("leak", "telemetry", {"leak": True, "id": {"x": 1}}, Reason.invalid_payload),
]


@pytest.mark.parametrize(("kind", "channel", "doc"), ACCEPTED)
def test_contract_payloads_are_accepted(kind: str, channel: str, doc: dict[str, object]) -> None:
    reading = _decode(kind, channel, doc)
    for key, value in doc.items():
        assert reading.data[key] == value  # type: ignore[attr-defined]


@pytest.mark.parametrize(("kind", "channel", "doc", "reason"), REFUSED)
def test_bad_payloads_are_refused_with_a_reason(
    kind: str, channel: str, doc: object, reason: Reason
) -> None:
    with pytest.raises(Rejected) as err:
        _decode(kind, channel, doc)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", Reason.bad_encoding),
        (b"{not json", Reason.bad_json),
        (b"x" * (MAX_PAYLOAD_BYTES + 1), Reason.too_large),
    ],
)
def test_undecodable_payloads(raw: bytes, reason: Reason) -> None:
    with pytest.raises(Rejected) as err:
        decode(SPECS["leak"], "telemetry", raw, received_at=NOW)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, NOW),
        ("2026-11-23T18:00:00+08:00", NOW),
        ("2026-11-23T10:00:00Z", NOW),
        (1795428000000, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("2026-11-23T10:04:59+00:00", NOW + timedelta(minutes=4, seconds=59)),
    ],
)
def test_timestamps(value: object, expected: datetime) -> None:
    assert parse_ts(value, received_at=NOW) == expected


def test_status_channel_is_plain_text() -> None:
    assert decode(SPECS["gate"], "status", b"offline", received_at=NOW).data == {
        "status": "offline"
    }
    with pytest.raises(Rejected) as err:
        decode(SPECS["gate"], "status", b"sleeping", received_at=NOW)
    assert err.value.reason == Reason.bad_status


def test_message_id_and_ts_are_taken_out_of_the_data() -> None:
    reading = decode(
        SPECS["leak"],
        "telemetry",
        b'{"leak": false, "id": "m-1", "ts": 1795428000000}',
        received_at=NOW,
    )
    assert reading.message_id == "m-1"
    assert reading.data == {"leak": False}


@pytest.mark.parametrize(
    "topic",
    [
        "fh/site/leak/dev",
        "xx/site/leak/dev/telemetry",
        "fh/Site/leak/dev/telemetry",
        "fh/site/toaster/dev/telemetry",
        "fh/site/leak/dev/cmd",
        "fh/site/leak/-dev/telemetry",
        "fh/site/leak/dev/telemetry/extra",
    ],
)
def test_bad_topics(topic: str) -> None:
    with pytest.raises(Rejected) as err:
        parse_topic(topic)
    assert err.value.reason == Reason.bad_topic


def test_good_topic() -> None:
    parsed = parse_topic("fh/sunshine-garden/gate/gate-north/event")
    assert (parsed.site, parsed.kind, parsed.device, parsed.channel) == (
        "sunshine-garden",
        "gate",
        "gate-north",
        "event",
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=6,
)
RELAXED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(
    kind=st.sampled_from(sorted(SPECS)),
    channel=st.sampled_from(["telemetry", "event", "status"]),
    doc=st.dictionaries(
        st.sampled_from(
            ["leak", "on", "arm", "type", "paper_pct", "ts", "id", "battery", "power_w", "x"]
        ),
        json_values,
        max_size=6,
    ),
)
def test_any_json_is_accepted_or_refused_with_a_reason(
    kind: str, channel: str, doc: dict[str, object]
) -> None:
    try:
        reading = decode(SPECS[kind], channel, orjson.dumps(doc), received_at=NOW)
    except Rejected as exc:
        reason: Reason | None = exc.reason
    else:
        reason = None
        assert reading.ts.tzinfo is not None
        assert reading.ts - NOW <= timedelta(minutes=5)
    assert reason is None or reason in set(Reason)


@RELAXED
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_accepted_or_refused_with_a_reason(raw: bytes) -> None:
    reason: Reason | None = None
    try:
        decode(SPECS["light"], "telemetry", raw, received_at=NOW)
    except Rejected as exc:
        reason = exc.reason
    assert reason is None or reason in set(Reason)
