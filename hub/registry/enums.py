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
