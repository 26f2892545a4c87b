"""Device simulators: each kind's readings and events over MQTT, with scripted faults.

Scenarios: `normal` (healthy traffic), `faults` (healthy traffic plus a fault script whose
first faults start within a minute and then repeat every few minutes), `storm` (as fast as
the broker takes it, for throughput checks).

Devices report in turn, so with the demo's fleet each one is read every few seconds. A
fault that starts does not wait for its device's turn: the device reports at once, and an
event fault (the booth button pressed with a car on the loop) is that report, so even a
fault shorter than the round is published.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices import SPECS
from devices.base import SimDevice
from hub.registry.enums import DeviceKind

logger = logging.getLogger(__name__)

SCENARIOS = ("normal", "faults", "storm")


@dataclass(frozen=True)
class FaultStep:
    """At `at_s` seconds into a cycle, `count` devices of `kind` act out `fault` for a while.

    `duration_s` must outlast the rule the fault trips (e.g. 300 s of a blocked lane), and
    leave time for the readings a slow fault needs (paper running out takes several).
    """

    at_s: float
    kind: DeviceKind
    fault: str
    count: int = 1
    duration_s: float = 180.0
    prefer: str | None = None


FAULT_SCRIPT: tuple[FaultStep, ...] = (
    FaultStep(20, DeviceKind.leak, "leak", duration_s=180, prefer="leak-b2-f05"),
    FaultStep(40, DeviceKind.restroom, "paper", duration_s=600, prefer="restroom-club-2f-men"),
    FaultStep(60, DeviceKind.light, "lamp", count=3, duration_s=900, prefer="light-b3-f11"),
    FaultStep(150, DeviceKind.gate, "button_on_car", duration_s=1, prefer="gate-garage"),
    FaultStep(240, DeviceKind.gate, "blocked", duration_s=420, prefer="gate-south"),
    FaultStep(420, DeviceKind.gate, "jammed", duration_s=120, prefer="gate-north"),
    FaultStep(500, DeviceKind.leak, "battery", duration_s=300),
)
CYCLE_S = 720.0
"""The fault script repeats with other devices every 12 minutes."""


def parse_device_list(text: str) -> list[tuple[DeviceKind, str]]:
    """`kind:id,kind:id` into (kind, id) pairs."""
    pairs = []
    for item in text.split(","):
        kind, _, device_id = item.strip().partition(":")
        if kind not in SPECS or not device_id:
            raise ValueError(f"bad device {item!r}: use kind:id, kind one of {', '.join(SPECS)}")
        pairs.append((DeviceKind(kind), device_id))
    return pairs


class Simulator:
    """Publishes as a set of devices through one MQTT connection until stopped."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        site: str,
        devices: Sequence[tuple[DeviceKind, str]],
        rate: float = 20.0,
        scenario: str = "faults",
        seed: int | None = None,
        username: str | None = None,
        password: str | None = None,
        qos: int = 1,
        time_scale: float = 1.0,
    ) -> None:
        """Simulate `devices` of `site`; `time_scale` < 1 runs the fault script compressed.

        The script's times (`at_s`, `duration_s`, the cycle) are multiplied by
        `time_scale`: 0.05 plays the 12-minute cycle in 36 s (for tests). The reading rate
        is `rate` either way.
        """
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; use one of {', '.join(SCENARIOS)}")
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        rng = random.Random(seed)
        self.site = site
        self.devices = [
            SimDevice(site=site, kind=kind, device_id=i, rng=random.Random(rng.random()))
            for kind, i in devices
        ]
        self.rate = rate
        self.scenario = scenario
        self.qos = qos
        self.rng = rng
        self.time_scale = time_scale
        self.published = 0
        """Messages handed to the client (queued, not yet necessarily delivered)."""
        self.delivered = 0
        """Messages the broker has acknowledged (all of them at QoS 0 once sent)."""
        self.started: list[tuple[FaultStep, str]] = []
        """Scripted faults begun so far: the step and the device acting it out."""
        self._stop = threading.Event()
        self._active: list[tuple[float, SimDevice, str]] = []
        self._next_step = 0
        self._cycle = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"fhub-sim-{uuid.uuid4().hex[:10]}"
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_queued_messages_set(10_000)
        self.client.on_publish = self._on_publish
        self._host, self._port = host, port

    def _on_publish(self, *_: object) -> None:
        self.delivered += 1

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue one message; while the client's queue is full, wait for the broker."""
        while True:
            info = self.client.publish(topic, payload, qos=self.qos, retain=retain)
            if info.rc != mqtt.MQTT_ERR_QUEUE_SIZE:
                break
            if self._stop.wait(0.05):
                return  # stopping: the message was never queued, so it is not counted
        self.published += 1

    def _drain(self, timeout: float = 10.0) -> None:
        """Wait until the broker has every queued message, so a stop loses none."""
        deadline = time.monotonic() + timeout
        while self.delivered < self.published and time.monotonic() < deadline:
            time.sleep(0.02)

    def _reading(self, sim: SimDevice) -> None:
        spec = SPECS[sim.kind]
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        for event in spec.simulate_events(sim):
            message = {"id": uuid.uuid4().hex[:16], "ts": now, **event}
            self._publish(sim.topic("event"), orjson.dumps(message))
        body: dict[str, Any] = {"id": uuid.uuid4().hex[:16], "ts": now, **spec.simulate(sim)}
        self._publish(sim.topic("telemetry"), orjson.dumps(body))

    def _pick(self, step: FaultStep) -> list[SimDevice]:
        """Devices for a fault step: the preferred one (and its neighbours) first time round."""
        pool = sorted(
            (d for d in self.devices if d.kind == step.kind and d.fault is None),
            key=lambda d: d.device_id,
        )
        if not pool:
            return []
        start = 0
        names = [d.device_id for d in pool]
        if self._cycle == 0 and step.prefer in names:
            start = names.index(step.prefer)
        else:
            start = self.rng.randrange(len(pool))
        return [pool[(start + i) % len(pool)] for i in range(min(step.count, len(pool)))]

    def _script(self, elapsed: float) -> None:
        """Start and end scripted faults; `elapsed` is in the script's seconds."""
        for entry in list(self._active):
            until, sim, fault = entry
            if elapsed < until:
                continue
            self._active.remove(entry)
            logger.info("simulated fault over: %s on %s", fault, sim.device_id)
            if sim.fault != fault:
                continue  # a one-shot fault (an event) already ended; the device may act anew
            if fault == "paper":
                sim.memory["paper"] = 100.0
                body = {"type": "refilled", "item": "paper"}
                self._publish(sim.topic("event"), orjson.dumps(body))
            sim.fault = None
        cycle_elapsed = elapsed - self._cycle * CYCLE_S
        while self._next_step < len(FAULT_SCRIPT) and (
            FAULT_SCRIPT[self._next_step].at_s <= cycle_elapsed
        ):
            step = FAULT_SCRIPT[self._next_step]
            for sim in self._pick(step):
                sim.fault = step.fault
                self._active.append((elapsed + step.duration_s, sim, step.fault))
                self.started.append((step, sim.device_id))
                logger.info("simulated fault: %s on %s", step.fault, sim.device_id)
                self._reading(sim)  # now, not at the device's next turn
            self._next_step += 1
        if cycle_elapsed >= CYCLE_S:
            self._cycle += 1
            self._next_step = 0

    def run(self, duration: float | None = None) -> int:
        """Publish until stopped (or for `duration` seconds); returns messages published."""
        self.client.connect(self._host, self._port)
        self.client.loop_start()
        for sim in self.devices:
            self._publish(sim.topic("status"), b"online", retain=True)
        started = time.monotonic()
        interval = 0.0 if self.scenario == "storm" else 1.0 / max(self.rate, 0.01)
        index = 0
        try:
            while not self._stop.is_set():
                elapsed = time.monotonic() - started
                if duration is not None and elapsed >= duration:
                    break
                if self.scenario == "faults":
                    self._script(elapsed / self.time_scale)
                if self.devices:
                    self._reading(self.devices[index % len(self.devices)])
                    index += 1
                if interval:
                    self._stop.wait(interval)
        finally:
            self._drain()
            # No `offline` on a clean stop: the devices are paused, not gone; if they stay
            # silent the hub's heartbeat timeout reports them late, then offline.
            self.client.disconnect()
            self.client.loop_stop()
        return self.published

    def stop(self) -> None:
        """Ask `run` to finish."""
        self._stop.set()
