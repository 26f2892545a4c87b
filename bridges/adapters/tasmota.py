"""Tasmota relays and lights: `tele/{t}/STATE|SENSOR|LWT` and `stat/{t}/POWER`.

With Tasmota's default full topic `%prefix%/%topic%/`, a device `{t}` reports:

| topic | payload | hub reading (kind `light`) |
|---|---|---|
| `stat/{t}/POWER` | `ON` / `OFF`, when the relay switches | telemetry `on` |
| `tele/{t}/STATE` | each teleperiod: `{"POWER": "ON", "Uptime": ...}` | telemetry `on` |
| `tele/{t}/SENSOR` | each teleperiod: `{"ENERGY": {"Power": 9.5}, ...}` | `power_w`, `lux` |
| `tele/{t}/LWT` | retained `Online`, its Last Will `Offline` | status |

(`STATE` may name the relay `POWER1`; a light sensor such as a BH1750 reports its
`Illuminance` in `SENSOR`.)

A relay switching a corridor light is the hub's `light`: the lamp-failure rule (on, but
drawing under 1 W) needs the relay state and the power meter together, which Tasmota
sends in two messages. A `SENSOR` reading therefore carries the relay state the hub last
recorded; before any `POWER` or `STATE`, a lamp drawing power is taken as on. Tasmota's
`Time` is local time without an offset and is not used: the time of receipt stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridges.adapters.base import (
    Match,
    Translated,
    availability,
    check_name,
    switch_state,
    unsupported,
)
from devices.base import Reason, Rejected, load_object
from hub.registry.enums import Adapter, DeviceKind

PARTS = {"tele": ("STATE", "SENSOR", "LWT"), "stat": ("POWER",)}
MAX_TOPIC = 255
ON_FROM_W = 1.0
"""Before the relay state is known, a lamp drawing at least this much is taken as on."""


class Tasmota:
    """The Tasmota adapter (default full topic `%prefix%/%topic%/`)."""

    name = Adapter.tasmota

    def roots(self) -> tuple[str, ...]:
        """The four topics the hub reads of every Tasmota device."""
        return tuple(f"{prefix}/+/{part}" for prefix, parts in PARTS.items() for part in parts)

    def match(self, topic: str) -> Match | None:
        """`{prefix}/{t}/{part}` for the parts the hub reads."""
        parts = topic.split("/")
        if len(parts) != 3 or parts[2] not in PARTS.get(parts[0], ()):
            return None
        return Match(
            self.name, check_name(parts[1], what="Tasmota topic", longest=MAX_TOPIC), parts[2]
        )

    def translate(
        self, match: Match, payload: bytes, *, kind: DeviceKind, last: Mapping[str, Any]
    ) -> Translated:
        """The relay's state, power and light level as light telemetry; LWT as status."""
        if match.part == "LWT":
            return availability(payload)
        if kind != DeviceKind.light:
            raise unsupported(self.name, kind)
        if match.part == "POWER":
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Rejected(Reason.bad_encoding, "payload is not UTF-8") from exc
            return Translated.telemetry({"on": switch_state(text, name="POWER")})
        doc = load_object(payload)
        if match.part == "STATE":
            on, provisional = _relay(doc, last)
            return Translated.telemetry({"on": on}, from_state=("on",) if provisional else ())
        # a power reading carries the relay state the hub holds when it is ingested
        return Translated.telemetry(_sensor(doc, last), from_state=("on",))


def _relay(doc: Mapping[str, Any], last: Mapping[str, Any]) -> tuple[bool, bool]:
    """The relay state, and whether it was filled in from `last` (not in the message)."""
    for key in ("POWER", "POWER1"):
        if key in doc:
            return switch_state(doc[key], name=key), False
    known = last.get("on")
    if isinstance(known, bool):
        return known, True  # a STATE without a relay: a heartbeat, the state stands
    raise Rejected(Reason.invalid_payload, "STATE: no POWER, and no earlier reading gave it")


def _sensor(doc: Mapping[str, Any], last: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    energy = doc.get("ENERGY")
    if isinstance(energy, dict) and "Power" in energy:
        power = energy["Power"]
        # a multi-channel meter reports a list; the light is on its first channel
        fields["power_w"] = power[0] if isinstance(power, list) and power else power
    for value in doc.values():
        if isinstance(value, dict) and "Illuminance" in value:
            fields["lux"] = value["Illuminance"]
            break
    known = last.get("on")
    if isinstance(known, bool):
        fields["on"] = known
    else:
        power = fields.get("power_w")
        if isinstance(power, bool) or not isinstance(power, int | float):
            raise Rejected(
                Reason.invalid_payload, "SENSOR: relay state unknown and no ENERGY.Power"
            )
        fields["on"] = power >= ON_FROM_W
    return fields
