"""Nothing lost and nothing doubled when the bridge is killed and the broker restarts.

A Mosquitto of the test's own (persistence on, in a temporary directory) and a bridge in a
process of its own. 20,000 QoS 1 readings of 16 devices are published at a steady pace;
some turn into alarms, own orders and grouped orders. Midway the bridge is killed with
SIGKILL and started again, later the broker restarts. In the end every reading is stored
once, and each alarm and order exists once.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from devices.base import Reason
from hub.alarms.models import Alarm
from hub.clock import SystemClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.signals.models import DeadLetter, DeviceState, Signal
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import free_port, wait_for
from tests.pipeline import register, unique_site
from tests.services import port_open, unavailable

pytestmark = [pytest.mark.mosquitto, pytest.mark.timeout(240)]
logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]

MESSAGES = 20_000
RATE = 2_500
"""Messages a second: the stream lasts eight seconds, long enough to break it twice."""
LEAKS = [f"leak-{n}" for n in range(10)]
RESTROOMS = [f"wc-{n}" for n in range(6)]
DEVICES = [("leak", d) for d in LEAKS] + [("restroom", d) for d in RESTROOMS]


class Mosquitto:
    """A Mosquitto on a free port that keeps its sessions and queues on disk across restarts."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            unavailable("mosquitto", "not installed")
        self.binary = binary
        self.port = free_port()
        self.conf = directory / "mosquitto.conf"
        data = directory / "data"
        data.mkdir()
        self.conf.write_text(
            f"user root\nlistener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {data}/\nautosave_interval 0\n"
            "max_queued_messages 100000\n",
            encoding="ascii",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait for its port."""
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if not wait_for(lambda: port_open("127.0.0.1", self.port, 0.2), timeout=10):
            self.proc.kill()
            pytest.fail(f"Mosquitto did not start: {self.proc.communicate()[1]!r}")

    def stop(self) -> None:
        """Stop it cleanly: it writes its sessions and queues to disk."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """The test's own persistent Mosquitto."""
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()


def _reading(n: int, kind: str) -> dict[str, object]:
    """Message `n` of the stream: low from a point on, so every alarm is raised once."""
    if kind == "leak":
        return {"leak": n >= 12_000 and n % len(DEVICES) < 3, "battery": 10 if n >= 8_000 else 80}
    return {"paper_pct": 5 if n >= 10_000 else 70, "soap_pct": 80}


@dataclass
class Stream:
    """The publisher: paced, QoS 1, riding out the broker's restart."""

    port: int
    client: mqtt.Client = field(init=False)
    sent: int = 0
    acked: set[int] = field(default_factory=set)
    """Packet ids the broker acknowledged (20,000 fit in the 16-bit ids without wrapping)."""

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{self.port}")
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acked.add(mid)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()

    def run(self, site: str) -> None:
        start_ts = SystemClock().now() - timedelta(minutes=4)
        started = time.monotonic()
        for n in range(MESSAGES):
            kind, device = DEVICES[n % len(DEVICES)]
            body = {
                "id": f"m{n:05d}",
                "ts": (start_ts + timedelta(milliseconds=10 * n)).isoformat(),
            }
            body |= _reading(n, kind)
            topic = f"fh/{site}/{kind}/{device}/telemetry"
            self.client.publish(topic, orjson.dumps(body), qos=1)  # queued while disconnected
            self.sent += 1
            if n % 100 == 99 and (ahead := (n + 1) / RATE - (time.monotonic() - started)) > 0:
                time.sleep(ahead)

    def published(self) -> int:
        return len(self.acked)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _bridge_process(
    engine: Engine, port: int, client_id: str, site: str, data: Path
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bridges.bridge_process",
            engine.url.render_as_string(hide_password=False),
            "127.0.0.1",
            str(port),
            client_id,
            f"fh/{site}/+/+/+",
            str(data),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "subscribed"
    return proc


def _stored(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(Signal)) or 0


def test_a_killed_bridge_and_a_restarted_broker_lose_and_double_nothing(
    broker: Mosquitto, fresh_engine: Engine, tmp_path: Path
) -> None:
    site = unique_site("durable")
    with session_factory(fresh_engine)() as session:
        register(
            session,
            SystemClock(),  # type: ignore[arg-type]
            site,
            [(d, DeviceKind.leak, f"{1 + n % 2}/1") for n, d in enumerate(LEAKS)]
            + [(d, DeviceKind.restroom, f"3/{1 + n % 2}/wc") for n, d in enumerate(RESTROOMS)],
        )
        session.commit()
    client_id = f"durable-{broker.port}"
    bridge = _bridge_process(fresh_engine, broker.port, client_id, site, tmp_path)
    stream = Stream(broker.port)
    publishing = threading.Thread(target=stream.run, args=(site,), daemon=True)
    started = time.monotonic()
    try:
        publishing.start()
        assert wait_for(lambda: _stored(fresh_engine) >= 3_000, timeout=60, every=0.05)
        bridge.send_signal(signal.SIGKILL)
        bridge.wait(10)
        killed_at = _stored(fresh_engine)
        bridge = _bridge_process(fresh_engine, broker.port, client_id, site, tmp_path)
        assert wait_for(lambda: stream.sent >= 13_000, timeout=60, every=0.05)
        broker.stop()
        restarted_at = _stored(fresh_engine)
        broker.start()
        publishing.join(60)
        assert wait_for(lambda: stream.published() == MESSAGES, timeout=60), stream.published()
        assert wait_for(lambda: _stored(fresh_engine) >= MESSAGES, timeout=90), _stored(
            fresh_engine
        )
        time.sleep(1)  # anything redelivered late would be a duplicate now: it must not count
    finally:
        stream.close()
        if bridge.poll() is None:
            bridge.terminate()
            bridge.wait(20)
    with session_factory(fresh_engine)() as session:
        keys = session.scalars(select(Signal.idem_key)).all()
        dead = session.scalar(select(func.count()).select_from(DeadLetter))
        internal = session.scalar(
            select(func.count()).where(DeadLetter.reason == Reason.internal_error)
        )
        redelivered = session.scalar(select(func.sum(DeviceState.duplicate_count)))
        alarms = session.execute(
            select(Alarm.device_id, Alarm.type, Alarm.work_order_id).where(Alarm.site_id == site)
        ).all()
        orders = session.scalar(select(func.count()).select_from(WorkOrder))
    print(  # the figures of the run, for whoever reads the log
        f"\ndurability [{fresh_engine.dialect.name}]: sent {MESSAGES}, stored {len(keys)},"
        f" dead-lettered {dead}, internal errors {internal}, redelivered and skipped"
        f" {redelivered}, killed at {killed_at} stored,"
        f" broker restarted at {restarted_at}, alarms {len(alarms)}, orders {orders},"
        f" {time.monotonic() - started:.1f} s"
    )
    assert sorted(keys) == [f"id:m{n:05d}" for n in range(MESSAGES)]  # none lost, none twice
    assert dead == 0
    by_type: dict[str, list[tuple[str, int | None]]] = {}
    for device, alarm_type, order in alarms:
        by_type.setdefault(alarm_type, []).append((device, order))
    assert sorted((t, len(v)) for t, v in by_type.items()) == [
        ("battery_low", 10),
        ("leak_detected", 3),
        ("supplies_low", 6),
    ]
    for alarm_type, raised in by_type.items():
        assert len({device for device, _o in raised}) == len(raised), alarm_type  # once each
    assert len({o for _d, o in by_type["battery_low"]}) == 1  # grouped per site
    assert len({o for _d, o in by_type["supplies_low"]}) == 2  # grouped per floor
    assert len({o for _d, o in by_type["leak_detected"]}) == 3  # one each
    assert orders == 6
