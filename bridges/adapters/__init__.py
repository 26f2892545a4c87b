"""Third-party device formats (zigbee2mqtt, Tasmota), read through the device registry.

`FH_ADAPTERS` switches them on; `Adapters.from_settings` builds the ones named, and the
bridge subscribes to their topic roots beside `fh/...` and translates their messages
before ingest (`bridges.adapters.ingest`).
"""

from __future__ import annotations

from bridges.adapters.base import Match, PayloadAdapter, Translated
from bridges.adapters.ingest import Adapters, Translation
from bridges.adapters.tasmota import Tasmota
from bridges.adapters.zigbee2mqtt import Zigbee2Mqtt

__all__ = [
    "Adapters",
    "Match",
    "PayloadAdapter",
    "Tasmota",
    "Translated",
    "Translation",
    "Zigbee2Mqtt",
]
