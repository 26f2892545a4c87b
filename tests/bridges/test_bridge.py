"""The bridge against real brokers and real databases: end to end, dedup, dead letters,
reconnects, shared subscriptions, and QoS 1 redelivery after a crash before commit."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bridges.broker import EmbeddedBroker
from bridges.mqtt import Bridge, new_client_id
from hub import migrate
from hub.clock import ManualClock
from hub.db import make_engine, session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.flows import BatchResult
from hub.signals.models import DeadLetter, Signal
from hub.signals.service import Incoming, verify_chain
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, forget_session, free_port, wait_for
from tests.pipeline import register, unique_site
from tests.services import require_mosquitto

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]


def _setup(engine: Engine, site: str) -> None:
    with session_factory(engine)() as session:
        register(
            session,
            ManualClock(),
            site,
            [
                ("leak-b4-f03", DeviceKind.leak, "4/3/pipe-well"),
                ("light-b3-f12", DeviceKind.light, "3/12"),
            ],
        )
        session.commit()


def _count(engine: Engine, model: type[Signal] | type[DeadLetter] | type[WorkOrder]) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _bridge(engine: Engine, host: str, port: int, site: str, **kw: object) -> Bridge:
    settings = Settings(mqtt_url=f"mqtt://{host}:{port}", **kw)  # type: ignore[arg-type]
    return Bridge(
        settings,
        session_factory(engine),
        client_id=new_client_id("bridge"),
        topics=[f"fh/{site}/+/+/+"],
    )


def test_embedded_broker_end_to_end(amqtt_broker: EmbeddedBroker, fresh_engine: Engine) -> None:
    site = unique_site("e2e")
    _setup(fresh_engine, site)
    bridge = _bridge(
        fresh_engine, amqtt_broker.host, amqtt_broker.port, site, mqtt_protocol="3.1.1"
    )
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    try:
        assert bridge.wait_subscribed()
        leak = f"fh/{site}/leak/leak-b4-f03"
        publisher.publish(f"{leak}/status", "online")
        publisher.publish(f"{leak}/telemetry", {"id": "t-1", "leak": False, "battery": 80})
        publisher.publish(f"{leak}/telemetry", {"id": "t-1", "leak": False, "battery": 80})
        publisher.publish(f"{leak}/telemetry", b"{broken")
        publisher.publish(f"fh/{site}/leak/nobody/telemetry", {"leak": True})
        started = time.monotonic()
        publisher.publish(f"{leak}/telemetry", {"id": "t-2", "leak": True, "flow_lpm": 25})
        assert wait_for(lambda: _count(fresh_engine, WorkOrder) == 1)
        latency = time.monotonic() - started
        logger.warning("publish → work order visible: %.0f ms", latency * 1000)
        assert wait_for(bridge.idle)
        assert _count(fresh_engine, Signal) == 3  # status + two distinct readings
        assert _count(fresh_engine, DeadLetter) == 2
        assert bridge.stats.duplicates == 1
        assert bridge.stats.reasons == {"bad_json": 1, "unknown_device": 1}
    finally:
        publisher.close()
        bridge.stop()


def test_bridge_reconnects_after_the_broker_restarts(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate.upgrade(engine)
    site = unique_site("recon")
    _setup(engine, site)
    port = free_port()
    broker = EmbeddedBroker(port=port)
    broker.start()
    bridge = _bridge(engine, "127.0.0.1", port, site, mqtt_protocol="3.1.1")
    bridge.start()
    try:
        assert bridge.wait_subscribed()
        broker.stop()
        broker = EmbeddedBroker(port=port)
        broker.start()
        assert wait_for(lambda: bridge.stats.connects >= 2, timeout=40)
        assert bridge.wait_subscribed()
        publisher = Publisher("127.0.0.1", port)
        publisher.publish(f"fh/{site}/light/light-b3-f12/telemetry", {"on": True, "power_w": 9})
        publisher.close()
        assert wait_for(lambda: _count(engine, Signal) == 1)
    finally:
        bridge.stop()
        broker.stop()
        engine.dispose()


@pytest.mark.mosquitto
def test_shared_subscription_splits_the_stream_without_duplicates(fresh_engine: Engine) -> None:
    host, port = require_mosquitto()
    site = unique_site("share")
    _setup(fresh_engine, site)
    group = f"g{new_client_id('')[1:]}"
    workers = [
        _bridge(fresh_engine, host, port, site, mqtt_share_group=group, bridge_batch_size=20)
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    publisher = Publisher(host, port)
    try:
        assert all(w.wait_subscribed() for w in workers)
        for i in range(200):
            publisher.publish(
                f"fh/{site}/light/light-b3-f12/telemetry",
                {"id": f"m-{i}", "on": True, "power_w": 9.0},
            )
        assert wait_for(lambda: _count(fresh_engine, Signal) == 200, timeout=60)
        assert wait_for(lambda: all(w.idle() for w in workers))
        assert [w.stats.accepted > 0 for w in workers] == [True, True]
        assert sum(w.stats.accepted for w in workers) == 200
    finally:
        publisher.close()
        for worker in workers:
            worker.stop()
            forget_session(host, port, worker.client_id)


@pytest.mark.mosquitto
def test_qos1_messages_are_redelivered_after_a_bridge_crash(fresh_engine: Engine) -> None:
    host, port = require_mosquitto()
    site = unique_site("crash")
    _setup(fresh_engine, site)
    client_id = new_client_id("crashing")
    topic = f"fh/{site}/+/+/+"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bridges.crashing_bridge",
            fresh_engine.url.render_as_string(hide_password=False),
            host,
            str(port),
            client_id,
            topic,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    publisher = Publisher(host, port)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "subscribed"
        for i in range(60):
            publisher.publish(
                f"fh/{site}/leak/leak-b4-f03/telemetry", {"id": f"r-{i}", "leak": False}
            )
        assert proc.stdout.readline().startswith("holding")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert _count(fresh_engine, Signal) == 0  # nothing was committed
        settings = Settings(mqtt_url=f"mqtt://{host}:{port}")  # type: ignore[arg-type]
        bridge = Bridge(
            settings, session_factory(fresh_engine), client_id=client_id, topics=[topic]
        )
        bridge.start()
        try:
            assert wait_for(lambda: _count(fresh_engine, Signal) == 60, timeout=60)
            assert wait_for(bridge.idle)
            assert _count(fresh_engine, Signal) == 60
        finally:
            bridge.stop()
    finally:
        publisher.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        forget_session(host, port, client_id)


@pytest.mark.mosquitto
@pytest.mark.parametrize(("protocol", "window"), [("5", 300), ("3.1.1", 20)])
def test_acknowledging_after_commit_keeps_a_wide_window(
    fresh_engine: Engine, protocol: str, window: int
) -> None:
    """Stock Mosquitto sends 3.1.1 clients only 20 unacknowledged messages at a time.

    The bridge acknowledges after its batch commits, so under MQTT 5 it announces a Receive
    Maximum as large as what it holds; otherwise batches could never exceed 20 messages.
    """
    host, port = require_mosquitto()
    site = unique_site("window")
    _setup(fresh_engine, site)
    release = threading.Event()

    def stuck(
        session: Session, messages: Sequence[Incoming], now: datetime, lock_turn: object
    ) -> BatchResult:
        release.wait(30)  # a slow database: nothing commits, nothing is acknowledged
        return BatchResult()

    settings = Settings(  # type: ignore[call-arg]
        mqtt_url=f"mqtt://{host}:{port}",  # type: ignore[arg-type]
        mqtt_protocol=protocol,
        bridge_batch_size=10,
    )
    client_id = new_client_id("window")
    bridge = Bridge(
        settings,
        session_factory(fresh_engine),
        handler=stuck,
        client_id=client_id,
        topics=[f"fh/{site}/+/+/+"],
    )
    bridge.start()
    publisher = Publisher(host, port)
    try:
        assert bridge.wait_subscribed()
        for i in range(300):
            publisher.publish(
                f"fh/{site}/leak/leak-b4-f03/telemetry", {"id": f"w-{i}", "leak": False}
            )
        wait_for(lambda: bridge.stats.received >= window, timeout=10)
        time.sleep(0.5)
        assert bridge.stats.received == window
    finally:
        release.set()
        publisher.close()
        bridge.stop()
        forget_session(host, port, client_id)


def test_batches_in_progress_at_once_keep_each_device_in_arrival_order(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine
) -> None:
    site = unique_site("order")
    _setup(fresh_engine, site)
    bridge = _bridge(
        fresh_engine,
        amqtt_broker.host,
        amqtt_broker.port,
        site,
        mqtt_protocol="3.1.1",
        bridge_batch_size=7,
    )
    postgres = fresh_engine.dialect.name == "postgresql"
    assert bridge.pipeline == (2 if postgres else 1)  # SQLite takes one writer at a time
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    devices = [("leak", "leak-b4-f03", {"leak": False}), ("light", "light-b3-f12", {"on": True})]
    try:
        assert bridge.wait_subscribed()
        for seq in range(120):
            kind, device, body = devices[seq % 2]
            publisher.publish(f"fh/{site}/{kind}/{device}/telemetry", {**body, "id": f"s-{seq}"})
        assert wait_for(lambda: _count(fresh_engine, Signal) == 120)
        assert wait_for(bridge.idle)
    finally:
        publisher.close()
        bridge.stop()
    with session_factory(fresh_engine)() as session:
        for first, (_kind, device, _body) in enumerate(devices):
            keys = session.scalars(
                select(Signal.idem_key).where(Signal.device_id == device).order_by(Signal.id)
            ).all()
            assert [int(k.removeprefix("id:s-")) for k in keys] == list(range(first, 120, 2))
            assert verify_chain(session=session, device_id=device) == (True, 60)
    assert bridge.stats.committed == bridge.stats.received == 120
