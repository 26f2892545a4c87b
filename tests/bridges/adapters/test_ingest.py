"""Adapter messages through the registry in one batch: readings, quarantine, dead letters.

The bridge's own handler on real SQLite and PostgreSQL, without a broker: what a batch of
zigbee2mqtt and Tasmota traffic becomes.
"""

from __future__ import annotations

import base64
from contextlib import nullcontext
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridges.adapters import Adapters, Tasmota, Zigbee2Mqtt
from bridges.mqtt import ingest_handler
from hub.alarms.engine import RuleContext
from hub.clock import ManualClock
from hub.registry.enums import Adapter, DeviceKind
from hub.registry.models import Device, QuarantinedDevice
from hub.registry.service import add_device
from hub.signals.flows import BatchResult
from hub.signals.models import DeadLetter, DeviceState, Signal
from hub.signals.service import Incoming
from tests.conftest import SITE
from tests.pipeline import alarms_of, sensor_orders

pytestmark = pytest.mark.usefixtures("sites")

ADAPTERS = Adapters([Zigbee2Mqtt(), Tasmota()], quarantine_limit=3)


def _register(db: Session, clock: ManualClock) -> None:
    add_device(
        session=db,
        device_id="leak-b3-f12",
        site_id=SITE,
        kind=DeviceKind.leak,
        now=clock.now(),
        location_path="3/12/pipe-well",
        adapter=Adapter.zigbee2mqtt,
        external_id="管井 3-12",
    )
    add_device(
        session=db,
        device_id="light-b3-f12",
        site_id=SITE,
        kind=DeviceKind.light,
        now=clock.now(),
        location_path="3/12",
        adapter=Adapter.tasmota,
        external_id="corridor_3_12",
    )
    db.flush()


def _send(
    db: Session, clock: ManualClock, *messages: tuple[str, object], retain: bool = False
) -> BatchResult:
    batch = [
        Incoming(
            topic=topic,
            payload=body if isinstance(body, bytes) else orjson.dumps(body),
            received_at=clock.now(),
            qos=1,
            retain=retain,
        )
        for topic, body in messages
    ]
    handle = ingest_handler(RuleContext(), ADAPTERS)
    result = handle(db, batch, clock.now(), nullcontext())
    db.flush()
    return result


def _signals(db: Session, device_id: str) -> list[Signal]:
    return list(db.scalars(select(Signal).where(Signal.device_id == device_id).order_by(Signal.id)))


def test_a_zigbee_water_leak_raises_the_leak_alarm_and_opens_an_order(
    db: Session, clock: ManualClock
) -> None:
    _register(db, clock)
    result = _send(
        db,
        clock,
        ("zigbee2mqtt/管井 3-12/availability", {"state": "online"}),
        ("zigbee2mqtt/管井 3-12", {"water_leak": True, "battery": 88, "linkquality": 96}),
    )
    assert (result.accepted, result.dead) == (2, 0)
    signals = _signals(db, "leak-b3-f12")
    assert [s.channel for s in signals] == ["status", "telemetry"]
    assert signals[1].payload == {"leak": True, "battery": 88}
    assert [a.type for a in alarms_of(db, "leak-b3-f12")] == ["leak_detected"]
    orders = sensor_orders(db, SITE)
    assert len(orders) == 1
    assert orders[0].device_id == "leak-b3-f12"


def test_tasmota_power_and_sensor_make_one_light_state(db: Session, clock: ManualClock) -> None:
    _register(db, clock)
    result = _send(
        db,
        clock,
        ("tele/corridor_3_12/LWT", b"Online"),
        ("stat/corridor_3_12/POWER", b"ON"),
        ("tele/corridor_3_12/SENSOR", {"ENERGY": {"Power": 0.2}}),
    )
    assert result.accepted == 3
    state = db.get(DeviceState, "light-b3-f12")
    assert state is not None
    assert state.state["on"] is True
    assert state.state["power_w"] == 0.2
    device = db.get(Device, "light-b3-f12")
    assert device is not None
    assert device.status == "online"


def test_an_unknown_adapter_device_is_held_once_with_a_count(
    db: Session, clock: ManualClock
) -> None:
    result = _send(db, clock, ("zigbee2mqtt/new sensor", {"water_leak": False}))
    clock.advance(seconds=30)
    result2 = _send(
        db,
        clock,
        ("zigbee2mqtt/new sensor", {"water_leak": False, "battery": 70}),
        ("zigbee2mqtt/new sensor/availability", b"online"),
        ("zigbee2mqtt/bridge/state", {"state": "online"}),
    )
    assert (result.quarantined, result2.quarantined, result2.ignored) == (1, 2, 1)
    held = db.scalars(select(QuarantinedDevice)).all()
    assert len(held) == 1
    row = held[0]
    assert (row.adapter, row.external_id, row.count) == ("zigbee2mqtt", "new sensor", 3)
    assert row.topic == "zigbee2mqtt/new sensor/availability"
    assert base64.b64decode(row.payload_base64) == b"online"
    assert row.last_seen_at > row.first_seen_at
    assert db.scalars(select(Signal)).all() == []
    assert db.scalars(select(DeadLetter)).all() == []


def test_past_the_quarantine_limit_unknown_devices_are_dead_letters(
    db: Session, clock: ManualClock
) -> None:
    result = _send(db, clock, *[(f"tele/t{n}/STATE", {"POWER": "ON"}) for n in range(5)])
    assert (result.quarantined, result.dead) == (3, 2)
    assert result.reasons == {"unknown_device": 2}
    dead = db.scalars(select(DeadLetter)).all()
    assert sorted(d.topic for d in dead) == ["tele/t3/STATE", "tele/t4/STATE"]
    assert "quarantine is full" in dead[0].detail


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("zigbee2mqtt/管井 3-12", b"{broken", "bad_json"),
        ("zigbee2mqtt/管井 3-12", b'{"water_leak": "yes"}', "invalid_payload"),
        ("zigbee2mqtt/管井 3-12", b'{"water_leak": false, "battery": 250}', "invalid_payload"),
        ("zigbee2mqtt/管井 3-12", b'{"water_leak": false, "battery": NaN}', "bad_json"),
        ("zigbee2mqtt/管井 3-12", b'{"water_leak": false, "battery": 1e999}', "bad_json"),
        ("zigbee2mqtt/管井 3-12", b'{"water_leak": "\\u0000"}', "nul_character"),
        ("zigbee2mqtt/管井 3-12", b'{"water_leak": "\\ud800"}', "bad_json"),
        (
            "zigbee2mqtt/管井 3-12",
            b'{"water_leak": true, "x": 123456789012345678901234567890}',
            "number_out_of_range",
        ),
        ("zigbee2mqtt/管井 3-12", b"\xff\xfe\x00", "bad_encoding"),
        ("zigbee2mqtt/管井 3-12", b"[" * 100 + b"]" * 100, "too_deep"),
        ("zigbee2mqtt/管井 3-12/availability", b"\x00", "bad_status"),
        ("tele/corridor_3_12/STATE", b'{"POWER": "DIMMED"}', "invalid_payload"),
        ("tele/corridor_3_12/SENSOR", b'{"ENERGY": {"Power": -5}}', "invalid_payload"),
        ("stat/corridor_3_12/POWER", b"\xc3\x28", "bad_encoding"),
        ("tele/corridor_3_12/LWT", b"rebooting", "bad_status"),
        ("zigbee2mqtt/" + "n" * 300, b"{}", "bad_topic"),
    ],
)
def test_hostile_adapter_payloads_are_dead_letters_with_the_bytes_as_sent(
    db: Session, clock: ManualClock, topic: str, payload: bytes, reason: str
) -> None:
    _register(db, clock)
    result = _send(db, clock, (topic, payload))
    assert result.reasons == {reason: 1}, result.reasons
    dead = db.scalars(select(DeadLetter)).one()
    assert dead.topic == topic[:512]
    assert base64.b64decode(dead.payload_base64) == payload
    if reason != "bad_topic":
        assert (dead.site_id, dead.device_id) == (
            SITE,
            "leak-b3-f12" if "zigbee" in topic else "light-b3-f12",
        )


def test_a_retained_bad_availability_is_dead_lettered_once(db: Session, clock: ManualClock) -> None:
    _register(db, clock)
    first = _send(db, clock, ("tele/corridor_3_12/LWT", b"Sleeping"), retain=True)
    again = _send(db, clock, ("tele/corridor_3_12/LWT", b"Sleeping"), retain=True)
    assert (first.dead, again.dead, again.duplicates) == (1, 0, 1)


def test_messages_of_the_hub_own_topics_pass_untouched(db: Session, clock: ManualClock) -> None:
    add_device(session=db, device_id="leak-x", site_id=SITE, kind=DeviceKind.leak, now=clock.now())
    result = _send(
        db, clock, (f"fh/{SITE}/leak/leak-x/telemetry", {"leak": False}), ("other/topic", b"x")
    )
    assert result.accepted == 1
    assert result.reasons == {"bad_topic": 1}


def test_a_provisional_relay_state_gives_way_to_the_state_under_lock(
    db: Session, clock: ManualClock
) -> None:
    """A batch translated while an earlier one was switching the relay reads the switch."""
    _register(db, clock)
    _send(db, clock, ("stat/corridor_3_12/POWER", b"ON"))
    light = f"fh/{SITE}/light/light-b3-f12/telemetry"
    guessed = Incoming(  # as translated before the ON above was committed
        topic=light,
        payload=orjson.dumps({"on": False, "power_w": 0.3}),
        received_at=clock.now(),
        origin_topic="tele/corridor_3_12/SENSOR",
        origin_payload=b'{"ENERGY":{"Power":0.3}}',
        from_state=("on",),
    )
    result = ingest_handler(RuleContext(), None)(db, [guessed], clock.now(), nullcontext())
    assert result.accepted == 1
    stored = _signals(db, "light-b3-f12")[-1]
    assert stored.payload == {"on": True, "power_w": 0.3}


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(["water_leak", "battery", "battery_low", "tamper", "POWER", "ENERGY"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    doc=st.dictionaries(_KEYS | st.text(max_size=6), _VALUES, max_size=5),
    raw=st.binary(max_size=80),
    as_json=st.booleans(),
    topic=st.sampled_from(
        [
            "zigbee2mqtt/管井 3-12",
            "zigbee2mqtt/管井 3-12/availability",
            "tele/corridor_3_12/SENSOR",
            "tele/corridor_3_12/STATE",
            "stat/corridor_3_12/POWER",
            "tele/corridor_3_12/LWT",
        ]
    ),
)
def test_any_adapter_payload_is_stored_or_dead_lettered_on_both_databases(
    db: Session,
    clock: ManualClock,
    doc: dict[str, Any],
    raw: bytes,
    as_json: bool,
    topic: str,
) -> None:
    """Whatever a device sends through an adapter: one signal or one dead letter, no error."""
    if db.get(Device, "leak-b3-f12") is None:
        _register(db, clock)
    try:
        payload = orjson.dumps(doc) if as_json else raw
    except TypeError:  # a lone surrogate orjson will not write
        payload = raw
    clock.advance(seconds=1)
    result = _send(db, clock, (topic, payload))
    assert result.accepted + result.dead + result.duplicates == 1, result
