"""The InfluxDB sink against a real v2-write server (VictoriaMetrics): what reaches it, and
that an outage is a counted backlog that drains when the server returns, nothing lost or
written twice."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bridges import influx, lineproto
from bridges.broker import EmbeddedBroker
from bridges.influx import InfluxSink
from bridges.lineproto import Place
from bridges.mqtt import Bridge, new_client_id
from hub.clock import ManualClock
from hub.db import session_factory
from hub.health import Health
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.changes import AcceptedSignal, Changes
from tests.bridges.conftest import Publisher, free_port, wait_for
from tests.pipeline import register, unique_site
from tests.services import VictoriaMetrics, victoria_metrics


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A VictoriaMetrics of this test's own."""
    with victoria_metrics(tmp_path / "vm", free_port()) as server:
        yield server


def _site(engine: Engine) -> str:
    site = unique_site("influx")
    with session_factory(engine)() as session:
        register(
            session,
            ManualClock(),
            site,
            [("leak-1", DeviceKind.leak, "3/12"), ("gate-1", DeviceKind.gate, "P1/B1")],
        )
        session.commit()
    return site


def _bridge(engine: Engine, broker: EmbeddedBroker, site: str, vm: VictoriaMetrics) -> Bridge:
    settings = Settings(  # type: ignore[call-arg]
        mqtt_url=f"mqtt://{broker.host}:{broker.port}",  # type: ignore[arg-type]
        mqtt_protocol="3.1.1",
        influx_url=vm.url,  # type: ignore[arg-type]
        influx_token="test-token",  # type: ignore[arg-type]
    )
    return Bridge(
        settings,
        session_factory(engine),
        client_id=new_client_id("influx"),
        topics=[f"fh/{site}/+/+/+"],
    )


def _fast(sink: InfluxSink) -> None:
    """Flush and retry often, so the test does not wait for production intervals."""
    sink.flush_s = 0.05
    sink.max_backoff_s = 0.3
    sink.counters = None  # only the devices' points


def _samples(vm: VictoriaMetrics, match: str) -> list[tuple[dict[str, str], float, int]]:
    return [
        (series["metric"], value, ts)
        for series in vm.export(match)
        for value, ts in zip(series["values"], series["timestamps"], strict=True)
    ]


def _at(n: int) -> str:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return (base + timedelta(milliseconds=10 * n)).isoformat()


def test_committed_signals_reach_influx_with_their_place_and_kind(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine, vm: VictoriaMetrics
) -> None:
    site = _site(fresh_engine)
    bridge = _bridge(fresh_engine, amqtt_broker, site, vm)
    health = Health()
    sink = influx.attach(bridge, bridge.settings, health)
    assert sink is not None
    _fast(sink)
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    leak = f"fh/{site}/leak/leak-1/telemetry"
    try:
        assert bridge.wait_subscribed()
        for n in range(5):
            body = {"id": f"l{n}", "ts": _at(n), "leak": n == 4, "battery": 90 - n}
            publisher.publish(leak, {**body, "pressure_kpa": 300, "note": "free text"})
        publisher.publish(leak, {"id": "l4", "ts": _at(4), "leak": True, "battery": 86})  # again
        publisher.publish(leak, b"{junk")
        publisher.publish(
            f"fh/{site}/gate/gate-1/event",
            {"type": "arm_down", "source": "manual_button", "loop_occupied": True, "ts": _at(7)},
        )
        publisher.publish(f"fh/{site}/gate/gate-1/telemetry", {"arm": "down", "ts": _at(8)})
        publisher.publish(f"fh/{site}/gate/gate-1/status", "online")
        assert wait_for(lambda: bridge.idle() and bridge.stats.received == 10)
        assert wait_for(sink.drained)
    finally:
        publisher.close()
        bridge.stop()
    battery = _samples(vm, f'leak_battery{{site="{site}"}}')
    assert sorted(v for _m, v, _t in battery) == [86.0, 87.0, 88.0, 89.0, 90.0]
    tags = battery[0][0]
    assert (tags["building"], tags["floor"], tags["kind"], tags["device"]) == (
        "3",
        "12",
        "leak",
        "leak-1",
    )
    assert sorted(v for _m, v, _t in _samples(vm, f'leak_leak{{site="{site}"}}')) == [0, 0, 0, 0, 1]
    assert not _samples(vm, f'{{__name__=~"leak_note.*",site="{site}"}}')  # not a schema field
    (event,) = _samples(vm, f'gate_event_count{{site="{site}"}}')
    assert event[0]["type"] == "arm_down"
    assert event[0]["source"] == "manual_button"
    assert (event[0]["building"], event[0]["floor"]) == ("P1", "B1")
    assert [v for _m, v, _t in _samples(vm, f'gate_event_loop_occupied{{site="{site}"}}')] == [1]
    assert [v for _m, v, _t in _samples(vm, f'gate_arm_down{{site="{site}"}}')] == [1]
    assert [v for _m, v, _t in _samples(vm, f'gate_arm_up{{site="{site}"}}')] == [0]
    assert [v for _m, v, _t in _samples(vm, f'device_status_online{{site="{site}"}}')] == [1]
    (raised,) = _samples(vm, f'alarm_count{{site="{site}",device="leak-1"}}')
    assert (raised[0]["type"], raised[0]["change"], raised[0]["kind"]) == (
        "leak_detected",
        "raised",
        "leak",
    )
    (closed,) = _samples(vm, f'alarm_count{{site="{site}",type="gate_closed_on_vehicle"}}')
    assert (closed[0]["building"], closed[0]["kind"]) == ("P1", "gate")
    report = health.reports()["influx"]
    assert report["state"] == "ok"
    assert report["backlog"] == 0
    assert report["written"] == sink.stats.written > 0


def test_an_outage_is_a_counted_backlog_that_drains_when_the_server_returns(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine, vm: VictoriaMetrics
) -> None:
    site = _site(fresh_engine)
    bridge = _bridge(fresh_engine, amqtt_broker, site, vm)
    health = Health()
    sink = influx.attach(bridge, bridge.settings, health)
    assert sink is not None
    _fast(sink)
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    topic = f"fh/{site}/leak/leak-1/telemetry"

    def send(numbers: range) -> None:
        for n in numbers:
            body = {"id": f"m{n}", "ts": _at(n), "leak": False, "battery": 100 - n}
            publisher.publish(topic, body)

    try:
        assert bridge.wait_subscribed()
        send(range(20))
        assert wait_for(lambda: sink.drained() and sink.stats.written == 20)
        vm.stop()
        send(range(20, 50))
        assert wait_for(lambda: bridge.idle() and bridge.stats.accepted == 50)  # ingest goes on
        assert wait_for(lambda: sink.status()["backlog"] == 30 and sink.stats.state == "down")
        report = health.reports()["influx"]
        assert (report["state"], report["backlog"], report["written"]) == ("down", 30, 20)
        assert "fhub_influx_backlog 30" in health.metrics()
        assert "fhub_influx_up 0" in health.metrics()
        vm.start()
        assert wait_for(sink.drained, timeout=30)
        assert "fhub_influx_up 1" in health.metrics()
    finally:
        publisher.close()
        bridge.stop()
    samples = _samples(vm, f'leak_battery{{site="{site}"}}')
    assert sorted(v for _m, v, _t in samples) == [float(n) for n in range(51, 101)]  # once each
    assert sink.stats.written == 50
    assert (sink.stats.dropped, sink.stats.rejected) == (0, 0)
    assert sink.stats.failures >= 1


def _signal(site: str, payload: dict[str, object], n: int) -> AcceptedSignal:
    ts = datetime.now(UTC) - timedelta(seconds=30) + timedelta(milliseconds=n)
    return AcceptedSignal("d-1", site, "leak", "telemetry", None, ts, payload, "0" * 64)


def test_hostile_values_and_places_do_not_break_line_protocol(vm: VictoriaMetrics) -> None:
    site = unique_site("hostile")
    odd = Place(building="A, b=1\\", floor="1\n2\x00 ")
    sink = InfluxSink(
        url=vm.url,
        token="t",
        org="o",
        bucket="b",
        places=lambda ids: dict.fromkeys(ids, odd),
        flush_s=0.05,
    )
    sink.start()
    try:
        payloads: list[dict[str, object]] = [
            {"leak": False, "battery": math.nan, "flow_lpm": 1.5},
            {"leak": True, "battery": math.inf, "pressure_kpa": 9_223_372_036_854_775_807},
            {"leak": False, "battery": 1e308, "tamper": True},
            {"leak": "yes", "battery": "80"},  # not the schema's types: left out, not written wrong
        ]
        sink(Changes(signals=tuple(_signal(site, p, n) for n, p in enumerate(payloads))))
        assert wait_for(sink.drained)
    finally:
        sink.stop()
    assert (sink.stats.rejected, sink.stats.dropped) == (0, 0)
    flow = _samples(vm, f'leak_flow_lpm{{site="{site}"}}')
    assert [v for _m, v, _t in flow] == [1.5]
    assert flow[0][0]["building"] == "A, b=1\\"
    assert flow[0][0]["floor"] == "1 2"
    (pressure,) = _samples(vm, f'leak_pressure_kpa{{site="{site}"}}')
    assert pressure[1] == pytest.approx(9.223372036854776e18)
    (battery,) = _samples(vm, f'leak_battery{{site="{site}"}}')
    assert battery[1] == pytest.approx(1e308)
    assert sorted(v for _m, v, _t in _samples(vm, f'leak_leak{{site="{site}"}}')) == [0, 0, 1]


def test_a_full_buffer_drops_its_oldest_points_and_counts_them() -> None:
    port = free_port()  # nobody listens: every write fails
    sink = InfluxSink(
        url=f"http://127.0.0.1:{port}",
        token="t",
        org="o",
        bucket="b",
        places=lambda ids: {},
        capacity=1000,
        flush_s=0.05,
        max_backoff_s=0.1,
    )
    sink.start()
    try:
        sink.add([f"m v={n} {n}" for n in range(1500)])
        assert wait_for(lambda: sink.stats.state == "down")
        assert sink.status()["backlog"] == 1000
        assert sink.stats.dropped == 500
    finally:
        sink.stop(timeout=0.5)


def test_the_dashboards_can_rely_on_the_series_derived_from_the_kinds() -> None:
    series = lineproto.written_series()
    assert {"leak", "light", "restroom", "gate"} <= set(series)
    assert {"leak", "battery", "flow_lpm", "pressure_kpa", "tamper"} == series["leak"]
    assert {"arm_up", "arm_down", "arm_moving", "loop_occupied"} == series["gate"]
    assert {"paper_pct", "soap_pct", "towel_pct", "visits"} == series["restroom"]
    assert "loop_occupied" in series["gate_event"]
