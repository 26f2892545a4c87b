"""The message mix: realistic payloads of the four device kinds, as devices send them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

KINDS = ("light", "leak", "restroom", "gate")


@dataclass(frozen=True)
class BenchDevice:
    """A device registered for a benchmark run."""

    site: str
    kind: str
    id: str
    location: str

    @property
    def telemetry_topic(self) -> str:
        """Where it publishes telemetry."""
        return f"fh/{self.site}/{self.kind}/{self.id}/telemetry"

    @property
    def event_topic(self) -> str:
        """Where it publishes events."""
        return f"fh/{self.site}/{self.kind}/{self.id}/event"


def fleet(site: str, count: int) -> list[BenchDevice]:
    """`count` devices of the four kinds spread over buildings and floors."""
    devices = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        building, floor = 1 + (n // 400), 1 + (n // 4) % 100
        devices.append(BenchDevice(site, kind, f"{kind}-{n:05d}", f"{building}/{floor}"))
    return devices


def _telemetry(kind: str, rng: random.Random) -> dict[str, object]:
    """A normal reading (no alarm condition) of `kind`."""
    if kind == "light":
        return {
            "on": True,
            "power_w": round(rng.uniform(8, 12), 1),
            "lux": round(rng.uniform(60, 180), 1),
            "motion": rng.random() < 0.2,
        }
    if kind == "leak":
        return {
            "leak": False,
            "battery": rng.randint(40, 100),
            "flow_lpm": round(rng.uniform(0, 3), 2),
            "pressure_kpa": round(rng.uniform(280, 350), 1),
            "tamper": False,
        }
    if kind == "restroom":
        return {
            "paper_pct": rng.randint(55, 100),
            "soap_pct": rng.randint(55, 100),
            "towel_pct": rng.randint(55, 100),
            "visits": rng.randint(0, 5000),
        }
    return {"arm": "down", "loop_occupied": False, "fault": None}


def messages(
    devices: list[BenchDevice], *, id_prefix: str, seed: int = 7
) -> Iterator[tuple[str, bytes]]:
    """Endless (topic, payload) pairs: mostly telemetry, some gate events, each with an id."""
    rng = random.Random(seed)
    seq = 0
    while True:
        device = devices[seq % len(devices)]
        seq += 1
        if device.kind == "gate" and seq % 3 == 0:
            body: dict[str, object] = {
                "type": "vehicle_in",
                "plate": f"沪A{rng.randint(10000, 99999)}",
            }
            topic = device.event_topic
        else:
            body = _telemetry(device.kind, rng)
            topic = device.telemetry_topic
        body["id"] = f"{id_prefix}-{seq}"
        yield topic, orjson.dumps(body)
