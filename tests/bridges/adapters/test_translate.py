"""Adapters alone: topics they claim, payloads they turn into the hub's readings, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridges.adapters import Match, Tasmota, Translated, Zigbee2Mqtt
from devices import SPECS
from devices.base import Reason, Rejected, decode
from hub.registry.enums import Adapter, DeviceKind

Z2M = Zigbee2Mqtt()
TASMOTA = Tasmota()
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _telemetry(result: Translated) -> dict[str, Any]:
    assert result.channel == "telemetry"
    doc: dict[str, Any] = orjson.loads(result.payload)
    return doc


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("zigbee2mqtt/leak_3_12", Match(Adapter.zigbee2mqtt, "leak_3_12", "state")),
        ("zigbee2mqtt/3号楼/管井", Match(Adapter.zigbee2mqtt, "3号楼/管井", "state")),
        (
            "zigbee2mqtt/leak_3_12/availability",
            Match(Adapter.zigbee2mqtt, "leak_3_12", "availability"),
        ),
        ("zigbee2mqtt/bridge/state", Match(Adapter.zigbee2mqtt, "bridge", "bridge", ignored=True)),
        ("zigbee2mqtt/lamp/set", Match(Adapter.zigbee2mqtt, "lamp/set", "command", ignored=True)),
        (
            "zigbee2mqtt/lamp/set/state",
            Match(Adapter.zigbee2mqtt, "lamp/set/state", "command", ignored=True),
        ),
        ("fh/s/leak/d/telemetry", None),
        ("zigbee2mqttx/leak", None),
    ],
)
def test_zigbee2mqtt_claims_its_topics(topic: str, expected: Match | None) -> None:
    assert Z2M.match(topic) == expected


@pytest.mark.parametrize(
    "topic",
    ["zigbee2mqtt/a\x00b", "zigbee2mqtt/a\ud800", "tele/a\x00/STATE", "tele/\udfff/LWT"],
)
def test_names_no_database_can_hold_are_bad_topics(topic: str) -> None:
    adapter = TASMOTA if topic.startswith("tele/") else Z2M
    with pytest.raises(Rejected) as err:
        adapter.match(topic)
    assert err.value.reason == Reason.bad_topic


@pytest.mark.parametrize(
    "topic", ["zigbee2mqtt/", "zigbee2mqtt/" + "x" * 256, "zigbee2mqtt//availability"]
)
def test_zigbee2mqtt_refuses_names_the_registry_cannot_hold(topic: str) -> None:
    with pytest.raises(Rejected) as err:
        Z2M.match(topic)
    assert err.value.reason == Reason.bad_topic


def test_a_custom_base_topic() -> None:
    adapter = Zigbee2Mqtt("home/z2m")
    assert adapter.roots() == ("home/z2m/#",)
    assert adapter.match("home/z2m/leak") == Match(Adapter.zigbee2mqtt, "leak", "state")
    assert adapter.match("zigbee2mqtt/leak") is None


@pytest.mark.parametrize(
    ("payload", "last", "expected"),
    [
        (
            {
                "water_leak": True,
                "battery": 91,
                "battery_low": False,
                "tamper": False,
                "linkquality": 120,
                "voltage": 3005,
            },
            {},
            {"leak": True, "battery": 91, "battery_low": False, "tamper": False},
        ),
        ({"water_leak": False, "battery": None}, {}, {"leak": False}),
        ({"battery": 12}, {"leak": False}, {"leak": False, "battery": 12}),
    ],
)
def test_a_zigbee_water_sensor_is_a_leak_sensor(
    payload: dict[str, Any], last: dict[str, Any], expected: dict[str, Any]
) -> None:
    match = Match(Adapter.zigbee2mqtt, "leak", "state")
    result = Z2M.translate(match, orjson.dumps(payload), kind=DeviceKind.leak, last=last)
    assert _telemetry(result) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"state": "ON", "power": 9.5, "illuminance_lux": 40, "occupancy": True},
            {"on": True, "power_w": 9.5, "lux": 40, "motion": True},
        ),
        ({"state": "off", "illuminance": 300, "illuminance_lux": 35}, {"on": False, "lux": 35}),
    ],
)
def test_a_zigbee_plug_or_bulb_is_a_light(
    payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    match = Match(Adapter.zigbee2mqtt, "lamp", "state")
    result = Z2M.translate(match, orjson.dumps(payload), kind=DeviceKind.light, last={})
    assert _telemetry(result) == expected


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b'{"state":"online"}', True),
        (b'{"state":"offline"}', False),
        (b"online", True),
        (b"offline", False),
        (b" Online\n", True),
    ],
)
def test_availability_both_forms(payload: bytes, online: bool) -> None:
    match = Match(Adapter.zigbee2mqtt, "leak", "availability")
    assert Z2M.translate(match, payload, kind=DeviceKind.leak, last={}) == Translated.status(online)


@pytest.mark.parametrize(
    ("part", "payload", "kind", "reason"),
    [
        ("state", b"{broken", DeviceKind.leak, Reason.bad_json),
        ("state", b"[1, 2]", DeviceKind.leak, Reason.not_object),
        ("state", b"\xff\xfe", DeviceKind.leak, Reason.bad_encoding),
        ("state", b'{"water_leak": "\\u0000"}', DeviceKind.leak, Reason.nul_character),
        (
            "state",
            b'{"battery": 99999999999999999999999}',
            DeviceKind.leak,
            Reason.number_out_of_range,
        ),
        ("state", b'{"a":' * 40 + b"1" + b"}" * 40, DeviceKind.leak, Reason.too_deep),
        ("state", b'{"battery": 50}', DeviceKind.leak, Reason.invalid_payload),
        ("state", b'{"state": "TOGGLE"}', DeviceKind.light, Reason.invalid_payload),
        ("state", b'{"water_leak": true}', DeviceKind.gate, Reason.wrong_kind),
        ("state", b"{" + b" " * 70_000 + b"}", DeviceKind.leak, Reason.too_large),
        ("availability", b'{"state":"maybe"}', DeviceKind.leak, Reason.bad_status),
        ("availability", b"\xc3(", DeviceKind.leak, Reason.bad_encoding),
        ("availability", b'{"state":', DeviceKind.leak, Reason.bad_json),
    ],
)
def test_zigbee2mqtt_refusals_carry_a_reason(
    part: str, payload: bytes, kind: DeviceKind, reason: Reason
) -> None:
    with pytest.raises(Rejected) as err:
        Z2M.translate(Match(Adapter.zigbee2mqtt, "x", part), payload, kind=kind, last={})
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("tele/corridor_3_12/STATE", Match(Adapter.tasmota, "corridor_3_12", "STATE")),
        ("tele/corridor_3_12/SENSOR", Match(Adapter.tasmota, "corridor_3_12", "SENSOR")),
        ("tele/corridor_3_12/LWT", Match(Adapter.tasmota, "corridor_3_12", "LWT")),
        ("stat/corridor_3_12/POWER", Match(Adapter.tasmota, "corridor_3_12", "POWER")),
        ("stat/corridor_3_12/RESULT", None),
        ("cmnd/corridor_3_12/POWER", None),
        ("tele/a/b/STATE", None),
    ],
)
def test_tasmota_claims_its_topics(topic: str, expected: Match | None) -> None:
    assert TASMOTA.match(topic) == expected


def test_tasmota_subscribes_to_the_four_parts() -> None:
    assert set(TASMOTA.roots()) == {"tele/+/STATE", "tele/+/SENSOR", "tele/+/LWT", "stat/+/POWER"}


@pytest.mark.parametrize(
    ("part", "payload", "last", "expected"),
    [
        ("POWER", b"ON", {}, {"on": True}),
        ("POWER", b"off", {}, {"on": False}),
        (
            "STATE",
            b'{"Time":"2026-12-02T08:00:00","Uptime":"0T01:00:00","POWER":"ON","Wifi":{"RSSI":80}}',
            {},
            {"on": True},
        ),
        ("STATE", b'{"POWER1":"OFF"}', {}, {"on": False}),
        ("STATE", b'{"Uptime":"1T00:00:00"}', {"on": True}, {"on": True}),
        (
            "SENSOR",
            b'{"ENERGY":{"Power":0.4,"Voltage":220}}',
            {"on": True},
            {"on": True, "power_w": 0.4},
        ),
        (
            "SENSOR",
            b'{"ENERGY":{"Power":[12,0]},"BH1750":{"Illuminance":310}}',
            {},
            {"on": True, "power_w": 12, "lux": 310},
        ),
        ("SENSOR", b'{"ENERGY":{"Power":0}}', {}, {"on": False, "power_w": 0}),
    ],
)
def test_a_tasmota_relay_is_a_light(
    part: str, payload: bytes, last: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = TASMOTA.translate(
        Match(Adapter.tasmota, "t", part), payload, kind=DeviceKind.light, last=last
    )
    assert _telemetry(result) == expected


@pytest.mark.parametrize(("payload", "online"), [(b"Online", True), (b"Offline", False)])
def test_tasmota_lwt_is_the_status(payload: bytes, online: bool) -> None:
    result = TASMOTA.translate(
        Match(Adapter.tasmota, "t", "LWT"), payload, kind=DeviceKind.light, last={}
    )
    assert result == Translated.status(online)


@pytest.mark.parametrize(
    ("part", "payload", "reason"),
    [
        ("POWER", b"TOGGLE", Reason.invalid_payload),
        ("POWER", b"\xff", Reason.bad_encoding),
        ("STATE", b'{"Uptime":"1T"}', Reason.invalid_payload),
        ("STATE", b'{"POWER": 1}', Reason.invalid_payload),
        ("SENSOR", b'{"ENERGY":{"Voltage":220}}', Reason.invalid_payload),
        ("SENSOR", b'{"ENERGY":{"Power":true}}', Reason.invalid_payload),
        ("SENSOR", b"nope", Reason.bad_json),
        ("LWT", b"Rebooting", Reason.bad_status),
    ],
)
def test_tasmota_refusals_carry_a_reason(part: str, payload: bytes, reason: Reason) -> None:
    with pytest.raises(Rejected) as err:
        TASMOTA.translate(
            Match(Adapter.tasmota, "t", part), payload, kind=DeviceKind.light, last={}
        )
    assert err.value.reason == reason


def test_tasmota_speaks_for_lights_only() -> None:
    with pytest.raises(Rejected) as err:
        TASMOTA.translate(
            Match(Adapter.tasmota, "t", "POWER"), b"ON", kind=DeviceKind.leak, last={}
        )
    assert err.value.reason == Reason.wrong_kind


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = st.sampled_from(
    [
        "water_leak",
        "battery",
        "battery_low",
        "tamper",
        "state",
        "power",
        "illuminance",
        "illuminance_lux",
        "occupancy",
        "POWER",
        "POWER1",
        "ENERGY",
        "BH1750",
        "linkquality",
    ]
)
_DOCS = st.dictionaries(_FIELDS | st.text(max_size=8), _JSON, max_size=6)


def _through_the_hub(
    adapter: Zigbee2Mqtt | Tasmota, match: Match, payload: bytes, kind: DeviceKind
) -> None:
    """Translate, then decode as ingest does: a reading or a refusal, nothing else."""
    try:
        result = adapter.translate(match, payload, kind=kind, last={})
    except Rejected:
        return
    try:
        reading = decode(SPECS[kind], result.channel, result.payload, received_at=NOW)
    except Rejected:
        return
    orjson.dumps(reading.data)


@settings(max_examples=300, deadline=None)
@given(
    doc=_DOCS,
    raw=st.binary(max_size=64),
    kind=st.sampled_from([DeviceKind.leak, DeviceKind.light]),
    part=st.sampled_from(["state", "availability"]),
    as_json=st.booleans(),
)
def test_any_zigbee2mqtt_payload_is_a_reading_or_a_refusal(
    doc: dict[str, Any], raw: bytes, kind: DeviceKind, part: str, as_json: bool
) -> None:
    try:
        payload = orjson.dumps(doc) if as_json else raw
    except TypeError:  # a lone surrogate: orjson will not write it
        payload = raw
    _through_the_hub(Z2M, Match(Adapter.zigbee2mqtt, "x", part), payload, kind)


@settings(max_examples=300, deadline=None)
@given(
    doc=_DOCS,
    raw=st.binary(max_size=64),
    part=st.sampled_from(["STATE", "SENSOR", "POWER", "LWT"]),
    as_json=st.booleans(),
)
def test_any_tasmota_payload_is_a_reading_or_a_refusal(
    doc: dict[str, Any], raw: bytes, part: str, as_json: bool
) -> None:
    try:
        payload = orjson.dumps(doc) if as_json else raw
    except TypeError:
        payload = raw
    _through_the_hub(TASMOTA, Match(Adapter.tasmota, "t", part), payload, DeviceKind.light)
