"""Simulated devices speak the contract, and each scripted fault trips the rule meant for it."""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pydantic import AnyUrl
from sqlalchemy import select

from bridges.broker import EmbeddedBroker
from bridges.mqtt import Bridge, new_client_id
from devices import SPECS
from devices.base import SimDevice, decode
from devices.simulator import FAULT_SCRIPT, Simulator, parse_device_list
from hub import migrate
from hub.alarms.engine import rule_context
from hub.alarms.models import Alarm
from hub.alarms.rules import RuleBook
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.demo import DEMO_SITE, demo_devices, seed_demo
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.jobs import evaluate_durations
from tests.bridges.conftest import free_port, wait_for

logger = logging.getLogger(__name__)

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


def test_each_scripted_fault_outlasts_the_rule_it_trips() -> None:
    rules = RuleBook()
    for step in FAULT_SCRIPT:
        rule = rules.rule("s", step.kind, EXPECTED[(step.kind, step.fault)])
        assert rule is not None
        assert step.duration_s > rule.for_s, step


def test_a_starting_fault_is_published_at_once() -> None:
    sim = Simulator(
        host="127.0.0.1",
        port=1,
        site="s",
        devices=parse_device_list("gate:gate-garage,gate:gate-north"),
        scenario="faults",
        seed=1,
    )
    sim._script(149)
    before = sim.published
    sim._script(150)  # the booth button with a car on the loop: one event, then the reading
    assert sim.started == [(FAULT_SCRIPT[3], "gate-garage")]
    assert sim.published == before + 2
    assert sim.devices[0].fault is None
    sim._script(151)  # its second is up; nothing is left to end
    assert sim.devices[0].fault is None
    with pytest.raises(ValueError, match="time_scale"):
        Simulator(host="h", port=1, site="s", devices=[], time_scale=0)


TIME_SCALE = 0.05
"""The script at twenty times its speed: the last fault starts 25 s in."""
RATE = 50.0
"""Readings a second over the demo's 115 devices: each reports every 2.3 s."""


def test_every_scripted_fault_of_the_demo_reaches_its_alarm(tmp_path: Path) -> None:
    """The demo's devices, broker and bridge as `fhub demo` runs them, the script compressed.

    Duration rules (a lamp out for a minute, a lane blocked for five) are fired by the
    scheduler's check with its clock an hour on, while their faults still last.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with session_scope(sessions) as session:
        seed_demo(session=session, now=SystemClock().now(), pepper="demo-pepper")
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    settings = Settings(
        data_dir=tmp_path,
        mqtt_url=AnyUrl(f"mqtt://127.0.0.1:{broker.port}"),
        mqtt_protocol="3.1.1",
    )
    ctx = rule_context(settings)
    bridge = Bridge(settings, sessions, ctx=ctx, client_id=new_client_id("demo-bridge"))
    sim = Simulator(
        host="127.0.0.1",
        port=broker.port,
        site=DEMO_SITE,
        devices=demo_devices(),
        rate=RATE,
        scenario="faults",
        seed=11,
        time_scale=TIME_SCALE,
    )
    runner = threading.Thread(target=sim.run, name="demo-sim", daemon=True)
    started = time.monotonic()
    try:
        bridge.start()
        assert bridge.wait_subscribed()
        runner.start()
        steps = len(FAULT_SCRIPT)
        # Stop once every step has begun: the long faults (lamps, the blocked lane) still last.
        assert wait_for(lambda: len({s for s, _ in sim.started}) == steps, timeout=60)
        sim.stop()
        runner.join(10)
        assert wait_for(lambda: bridge.stats.received >= sim.published and bridge.idle(), 30)
    finally:
        sim.stop()
        bridge.stop()
        broker.stop()
    logger.warning(
        "demo fault script: %d messages in %.1f s", sim.published, time.monotonic() - started
    )
    with session_scope(sessions) as session:
        later = SystemClock().now() + timedelta(hours=1)
        evaluate_durations(session=session, ctx=ctx, now=later)
    with sessions() as session:
        raised = {(d, t) for d, t in session.execute(select(Alarm.device_id, Alarm.type))}
    engine.dispose()
    expected = {(device_id, EXPECTED[(step.kind, step.fault)]) for step, device_id in sim.started}
    assert len(expected) == sum(step.count for step in FAULT_SCRIPT)
    assert expected - raised == set()
    assert ("gate-garage", "gate_closed_on_vehicle") in expected
    assert bridge.stats.dead == 0
