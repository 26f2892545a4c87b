"""zigbee2mqtt: `{base}/{friendly_name}` state objects and their retained availability.

zigbee2mqtt publishes each device's whole known state as one JSON object whenever a value
changes (`{"water_leak": true, "battery": 91, "linkquality": 120, ...}`), and, with
availability on, a retained `{base}/{friendly_name}/availability`: `{"state": "online"}`,
or the plain `online` / `offline` of versions before 1.31. Friendly names may hold `/`.

| zigbee2mqtt | hub kind | hub field |
|---|---|---|
| `water_leak` | leak | `leak` |
| `battery` (%) | leak | `battery` |
| `battery_low` | leak | `battery_low` (kept, not interpreted) |
| `tamper` | leak | `tamper` |
| `state` ON/OFF | light | `on` |
| `power` (W) | light | `power_w` |
| `illuminance_lux` (else `illuminance`) | light | `lux` |
| `occupancy` | light | `motion` |

Anything else (`linkquality`, `voltage`, `device_temperature`, `update`...) is radio and
housekeeping, not facility data, and is left out. A value zigbee2mqtt does not know yet
comes as `null` and is left out too.
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

MAX_NAME = 255
"""A friendly name longer than the registry's `external_id` column cannot be registered."""

_LEAK = {
    "water_leak": "leak",
    "battery": "battery",
    "battery_low": "battery_low",
    "tamper": "tamper",
}
_LIGHT = {"power": "power_w", "illuminance": "lux", "illuminance_lux": "lux", "occupancy": "motion"}
_REQUIRED = {DeviceKind.leak: ("leak", "water_leak"), DeviceKind.light: ("on", "state")}
_COMMANDS = ("set", "get")


class Zigbee2Mqtt:
    """The zigbee2mqtt adapter under one base topic (`base_topic` in its configuration)."""

    name = Adapter.zigbee2mqtt

    def __init__(self, base_topic: str = "zigbee2mqtt") -> None:
        self.base = base_topic.strip("/")

    def roots(self) -> tuple[str, ...]:
        """Everything under the base topic: friendly names may hold `/`."""
        return (f"{self.base}/#",)

    def match(self, topic: str) -> Match | None:
        """`{base}/{name}` (state), `{base}/{name}/availability`; the bridge's topics ignored."""
        prefix = f"{self.base}/"
        if not topic.startswith(prefix):
            return None
        rest = topic[len(prefix) :]
        parts = rest.split("/")
        if parts[0] == "bridge":  # zigbee2mqtt's own state, logs, device list
            return Match(self.name, "bridge", "bridge", ignored=True)
        if len(parts) > 1 and (
            parts[-1] in _COMMANDS or (len(parts) > 2 and parts[-2] in _COMMANDS)
        ):
            return Match(self.name, rest, "command", ignored=True)  # to the device, not from it
        part = "state"
        if len(parts) > 1 and parts[-1] == "availability":
            part, rest = "availability", "/".join(parts[:-1])
        return Match(self.name, check_name(rest, what="friendly name", longest=MAX_NAME), part)

    def translate(
        self, match: Match, payload: bytes, *, kind: DeviceKind, last: Mapping[str, Any]
    ) -> Translated:
        """The state object as the kind's telemetry, or the availability as status."""
        if match.part == "availability":
            return availability(payload, json_key="state")
        if kind not in _REQUIRED:
            raise unsupported(self.name, kind)
        doc = load_object(payload)
        fields: dict[str, Any] = {}
        if kind == DeviceKind.leak:
            fields = {hub: doc[z] for z, hub in _LEAK.items() if doc.get(z) is not None}
        else:
            fields = {hub: doc[z] for z, hub in _LIGHT.items() if doc.get(z) is not None}
            if doc.get("illuminance_lux") is not None:  # the calibrated one wins
                fields["lux"] = doc["illuminance_lux"]
            if doc.get("state") is not None:
                fields["on"] = switch_state(doc["state"], name="state")
        required, theirs = _REQUIRED[kind]
        if required in fields:
            return Translated.telemetry(fields)
        known = last.get(required)
        if not isinstance(known, bool):
            raise Rejected(
                Reason.invalid_payload, f"{theirs}: missing, and no earlier reading gave it"
            )
        fields[required] = known
        return Translated.telemetry(fields, from_state=(required,))
