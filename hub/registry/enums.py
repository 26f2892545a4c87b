"""Vocabulary of the registry: device kinds, location levels, availability."""

from __future__ import annotations

from enum import StrEnum


class DeviceKind(StrEnum):
    """The device kinds of CONTRACT.md."""

    gate = "gate"
    light = "light"
    leak = "leak"
    restroom = "restroom"


class LocationKind(StrEnum):
    """Levels of the location tree."""

    building = "building"
    floor = "floor"
    unit = "unit"
    area = "area"


class DeviceStatus(StrEnum):
    """Availability of a device (ok / late / offline)."""

    online = "online"
    late = "late"
    offline = "offline"


class Adapter(StrEnum):
    """Third-party payload formats a device may speak instead of the hub's own topics."""

    zigbee2mqtt = "zigbee2mqtt"
    tasmota = "tasmota"


class BrokerRole(StrEnum):
    """Who holds a broker credential, which decides the topics it may use."""

    device = "device"
    """One registered device: its own topics only."""
    gateway = "gateway"
    """A zigbee2mqtt gateway: publishes for every device behind it, under its base topic."""
    bridge = "bridge"
    """The hub itself: reads every device topic, publishes the hub's output and commands."""
    integration = "integration"
    """Another system: reads the hub's change events."""


ADAPTER_KINDS: dict[Adapter, frozenset[DeviceKind]] = {
    Adapter.zigbee2mqtt: frozenset({DeviceKind.leak, DeviceKind.light}),
    Adapter.tasmota: frozenset({DeviceKind.light}),
}
"""The hub kinds each adapter's payloads can become (a water sensor, a plug or relay)."""
