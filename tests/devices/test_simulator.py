"""Simulated devices speak the contract, and each scripted fault trips the rule meant for it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from devices import SPECS
from devices.base import SimDevice, decode
from devices.simulator import FAULT_SCRIPT, Simulator, parse_device_list
from hub.alarms.rules import RuleBook
from hub.registry.enums import DeviceKind

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

EXPECTED = {
    ("leak", "leak"): "leak_detected",
    ("leak", "battery"): "battery_low",
    ("light", "lamp"): "lamp_failure",
    ("restroom", "paper"): "supplies_low",
    ("gate", "blocked"): "lane_blocked",
    ("gate", "jammed"): "gate_fault",
    ("gate", "button_on_car"): "gate_closed_on_vehicle",
}


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_healthy_simulation_is_valid_and_raises_nothing(kind: str) -> None:
    sim = SimDevice(site="s", kind=DeviceKind(kind), device_id="d", rng=random.Random(7))
    spec = SPECS[kind]
    state: dict[str, object] = {}
    for _ in range(50):
        for event in spec.simulate_events(sim):
            decode(spec, "event", orjson.dumps(event), received_at=NOW)
        reading = decode(spec, "telemetry", orjson.dumps(spec.simulate(sim)), received_at=NOW)
        state |= reading.data
        held = [r.type for r in spec.rules if r.event is None and r.holds(state)]
        # A passing car holds the gate's duration rules for an instant, far short of them.
        assert held == [] or (kind == "gate" and set(held) <= {"lane_blocked", "gate_stuck_open"})


@pytest.mark.parametrize(("kind", "fault"), sorted(EXPECTED))
def test_each_fault_trips_its_rule(kind: str, fault: str) -> None:
    sim = SimDevice(
        site="s", kind=DeviceKind(kind), device_id="d", rng=random.Random(3), fault=fault
    )
    spec = SPECS[kind]
    rules = RuleBook().rules("s", kind)
    state: dict[str, object] = {}
    tripped: set[str] = set()
    for _ in range(10):
        for event in spec.simulate_events(sim):
            reading = decode(spec, "event", orjson.dumps(event), received_at=NOW)
            merged = {**state, **reading.data}
            tripped |= {
                r.type for r in rules.values() if r.event == event["type"] and r.holds(merged)
            }
        reading = decode(spec, "telemetry", orjson.dumps(spec.simulate(sim)), received_at=NOW)
        state |= reading.data
        tripped |= {r.type for r in rules.values() if r.event is None and r.holds(state)}
    assert EXPECTED[(kind, fault)] in tripped


def test_the_fault_script_starts_within_a_minute_and_knows_its_faults() -> None:
    assert min(step.at_s for step in FAULT_SCRIPT) < 60
    for step in FAULT_SCRIPT:
        assert step.fault in SPECS[step.kind].faults


def test_scripted_faults_pick_devices_and_end() -> None:
    sim = Simulator(
        host="127.0.0.1",
        port=1,
        site="s",
        devices=parse_device_list("leak:leak-b2-f05,light:light-b3-f11,light:light-b3-f12"),
        scenario="faults",
        seed=1,
    )
    sim._script(21)
    faulty = {d.device_id: d.fault for d in sim.devices if d.fault}
    assert faulty == {"leak-b2-f05": "leak"}
    sim._script(21 + timedelta(minutes=4).total_seconds())
    assert sim.devices[0].fault is None
    with pytest.raises(ValueError, match="kind:id"):
        parse_device_list("toaster:t1")
