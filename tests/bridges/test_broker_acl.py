"""Per-device broker logins and topic rules, on a real Mosquitto and on the embedded broker.

`fhub broker credentials` issues the logins and `fhub broker acl` writes Mosquitto's files;
a Mosquitto started by the test with exactly those files (no anonymous clients) refuses a
device reporting for another one, an unknown client and a wrong password. The embedded
broker, given the same logins, refuses the same things.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bridges.broker import EmbeddedBroker
from bridges.broker_auth import PolicySource
from bridges.broker_cli import policy_loader
from bridges.mqtt import Bridge, new_client_id
from hub import migrate
from hub.alarms.models import Alarm
from hub.cli import app
from hub.clock import ManualClock
from hub.db import make_engine, session_factory
from hub.registry.enums import Adapter, DeviceKind
from hub.registry.service import add_device
from hub.settings import Settings
from hub.signals.models import Signal
from tests.bridges.conftest import free_port, wait_for
from tests.pipeline import register
from tests.services import port_open, unavailable

SITE = "acl-site"
A = f"fh/{SITE}/leak/leak-a"
B = f"fh/{SITE}/leak/leak-b"


@dataclass
class Hub:
    """A database with two leak sensors and a Tasmota light, and the logins issued for them."""

    url: str
    engine: Engine
    passwords: dict[str, str] = field(default_factory=dict)


def _cli(url: str, *args: str) -> str:
    result = CliRunner().invoke(
        app, list(args), env={"FH_DATABASE_URL": url, "FH_ADAPTERS": "tasmota,zigbee2mqtt"}
    )
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    clock = ManualClock()
    with session_factory(engine)() as session:
        register(
            session,
            clock,
            SITE,
            [("leak-a", DeviceKind.leak, "1/1"), ("leak-b", DeviceKind.leak, "1/2")],
        )
        add_device(
            session=session,
            device_id="light-t",
            site_id=SITE,
            kind=DeviceKind.light,
            now=clock.now(),
            adapter=Adapter.tasmota,
            external_id="corridor_1",
        )
        add_device(
            session=session,
            device_id="leak-z",
            site_id=SITE,
            kind=DeviceKind.leak,
            now=clock.now(),
            adapter=Adapter.zigbee2mqtt,
            external_id="pipe-3",
        )
        session.commit()
    found = Hub(url, engine)
    lines = _cli(url, "broker", "credentials", "--site", SITE)
    lines += _cli(url, "broker", "credentials", "--bridge")
    lines += _cli(url, "broker", "credentials", "--integration", "erp")
    lines += _cli(url, "broker", "credentials", "--gateway", "z2m-gw")
    for line in lines.splitlines():
        username, password = line.split(",", 1)
        found.passwords[username] = password
    assert set(found.passwords) == {"leak-a", "leak-b", "light-t", "fhub-bridge", "erp", "z2m-gw"}
    return found


class Client:
    """An MQTT client that records what the broker answered."""

    def __init__(self, port: int, username: str | None, password: str | None, *, v5: bool) -> None:
        protocol = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=new_client_id("acl"), protocol=protocol
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connected = threading.Event()
        self.answered = threading.Event()
        self.refusal: ReasonCode | None = None
        self.acks: dict[int, ReasonCode] = {}
        self.granted: dict[int, list[ReasonCode]] = {}
        self.messages: list[tuple[str, bytes]] = []
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.answered.wait(10)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            self.refusal = reason
        else:
            self.connected.set()
        self.answered.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self.acks[mid] = reason

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        self.granted[mid] = reasons

    def publish(self, topic: str, payload: bytes) -> ReasonCode | None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        wait_for(lambda: info.mid in self.acks, timeout=5)
        return self.acks.get(info.mid)

    def subscribe(self, topic: str) -> list[ReasonCode]:
        _rc, mid = self.client.subscribe(topic, qos=1)
        assert wait_for(lambda: mid in self.granted, timeout=10)
        return self.granted[mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mosquitto(hub: Hub, tmp_path: Path) -> Iterator[int]:
    """A Mosquitto on a free port with the hub's password file and ACL, nobody anonymous."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto", "not installed")
    files = tmp_path / "mosquitto"
    _cli(hub.url, "broker", "acl", "--format", "mosquitto", "--out", str(files))
    assert (files / "passwd").stat().st_mode & 0o777 == 0o600
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"user root\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {files / 'passwd'}\nacl_file {files / 'acl'}\npersistence false\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        if not wait_for(lambda: port_open("127.0.0.1", port, 0.2), timeout=10):
            proc.kill()
            pytest.fail(f"Mosquitto did not start: {proc.communicate()[1]!r}")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.mosquitto
def test_mosquitto_holds_each_device_to_its_own_topics(hub: Hub, mosquitto: int) -> None:
    bridge = Client(mosquitto, "fhub-bridge", hub.passwords["fhub-bridge"], v5=True)
    device = Client(mosquitto, "leak-a", hub.passwords["leak-a"], v5=True)
    erp = Client(mosquitto, "erp", hub.passwords["erp"], v5=True)
    try:
        assert bridge.connected.is_set()
        assert device.connected.is_set()
        assert erp.connected.is_set()
        assert not bridge.subscribe("fh/#")[0].is_failure
        assert not bridge.subscribe("tele/+/STATE")[0].is_failure  # an adapter root
        own = device.publish(f"{A}/telemetry", b'{"leak": false}')
        forged = device.publish(f"{B}/telemetry", b'{"leak": true}')
        assert own is not None
        assert not own.is_failure
        assert forged is not None
        assert forged.value == 135, forged  # Not authorized
        assert wait_for(lambda: len(bridge.messages) >= 1)
        assert not wait_for(lambda: len(bridge.messages) > 1, timeout=1)
        assert bridge.messages == [(f"{A}/telemetry", b'{"leak": false}')]
        # a device reads its own commands only; an integration the hub's events only
        # (Mosquitto grants any subscription and holds back what the ACL does not let be read)
        for wanted in (f"{A}/cmd", f"{B}/cmd", "fh/#"):
            device.subscribe(wanted)
        for wanted in ("fh/+/hub/#", "fh/#"):
            erp.subscribe(wanted)
        device.messages.clear()
        assert not bridge.publish(f"{B}/cmd", b'{"to": "b"}').is_failure  # type: ignore[union-attr]
        assert not bridge.publish(f"{A}/cmd", b'{"to": "a"}').is_failure  # type: ignore[union-attr]
        assert wait_for(lambda: len(device.messages) >= 1)
        assert not wait_for(lambda: (f"{B}/cmd", b'{"to": "b"}') in device.messages, timeout=1)
        assert set(device.messages) == {(f"{A}/cmd", b'{"to": "a"}')}  # once per subscription
        assert erp.messages == []  # neither command: it reads fh/+/hub/# only
        notice = bridge.publish(f"fh/{SITE}/hub/notice", b"{}")
        assert notice is not None
        assert not notice.is_failure
        assert wait_for(lambda: set(erp.messages) == {(f"fh/{SITE}/hub/notice", b"{}")})
        assert erp.publish(f"fh/{SITE}/hub/notice", b"{}").value == 135  # type: ignore[union-attr]
    finally:
        for client in (bridge, device, erp):
            client.close()


@pytest.mark.mosquitto
def test_a_tasmota_login_publishes_under_its_own_topic(hub: Hub, mosquitto: int) -> None:
    light = Client(mosquitto, "light-t", hub.passwords["light-t"], v5=True)
    try:
        assert light.connected.is_set()
        assert not light.publish("tele/corridor_1/STATE", b'{"POWER":"ON"}').is_failure  # type: ignore[union-attr]
        assert light.publish("tele/corridor_2/STATE", b'{"POWER":"ON"}').value == 135  # type: ignore[union-attr]
        assert not light.subscribe("cmnd/corridor_1/POWER")[0].is_failure
    finally:
        light.close()


@pytest.mark.mosquitto
@pytest.mark.parametrize(
    ("username", "password"),
    [("leak-a", "wrong"), ("nobody", "whatever"), (None, None), ("leak-a", "")],
)
def test_mosquitto_refuses_unknown_clients_and_wrong_passwords(
    hub: Hub, mosquitto: int, username: str | None, password: str | None
) -> None:
    client = Client(mosquitto, username, password, v5=True)
    try:
        assert not client.connected.is_set()
        assert client.refusal is not None
        assert client.refusal.value in (134, 135)  # bad user name or password / not authorized
    finally:
        client.close()


@pytest.fixture
def embedded(hub: Hub) -> Iterator[int]:
    """The embedded broker with the hub's logins and rules."""
    settings = Settings(database_url=hub.url, adapters="tasmota")
    source = PolicySource(policy_loader(settings, session_factory(hub.engine)))
    broker = EmbeddedBroker(port=free_port(), policy=source)
    broker.start()
    yield broker.port
    broker.stop()


def test_the_embedded_broker_applies_the_same_rules(hub: Hub, embedded: int) -> None:
    bridge = Client(embedded, "fhub-bridge", hub.passwords["fhub-bridge"], v5=False)
    device = Client(embedded, "leak-a", hub.passwords["leak-a"], v5=False)
    try:
        assert bridge.connected.is_set()
        assert device.connected.is_set()
        assert not bridge.subscribe("fh/#")[0].is_failure
        device.publish(f"{B}/telemetry", b'{"leak": true}')  # 3.1.1: acknowledged, not delivered
        device.publish(f"{A}/telemetry", b'{"leak": false}')
        assert wait_for(lambda: len(bridge.messages) >= 1)
        assert not wait_for(lambda: len(bridge.messages) > 1, timeout=1)
        assert bridge.messages == [(f"{A}/telemetry", b'{"leak": false}')]
        assert not device.subscribe(f"{A}/cmd")[0].is_failure
        assert device.subscribe(f"{B}/cmd")[0].is_failure
        assert device.subscribe("#")[0].is_failure
    finally:
        bridge.close()
        device.close()


@pytest.mark.parametrize(
    ("username", "password"), [("leak-a", "wrong"), ("nobody", "x"), (None, None)]
)
def test_the_embedded_broker_refuses_unknown_clients_and_wrong_passwords(
    hub: Hub, embedded: int, username: str | None, password: str | None
) -> None:
    client = Client(embedded, username, password, v5=False)
    try:
        assert not client.connected.is_set()
    finally:
        client.close()


def test_a_login_issued_while_the_embedded_broker_runs_gets_in(hub: Hub, tmp_path: Path) -> None:
    settings = Settings(database_url=hub.url)
    source = PolicySource(policy_loader(settings, session_factory(hub.engine)), refresh_s=0)
    broker = EmbeddedBroker(port=free_port(), policy=source)
    broker.start()
    try:
        line = _cli(hub.url, "broker", "credentials", "--integration", "bms")
        username, password = line.strip().split(",", 1)
        client = Client(broker.port, username, password, v5=False)
        assert client.connected.is_set()
        client.close()
        _cli(hub.url, "broker", "revoke", "bms")
        again = Client(broker.port, username, password, v5=False)
        assert not again.connected.is_set()
        again.close()
    finally:
        broker.stop()


@pytest.mark.mosquitto
def test_the_bridge_on_its_own_login_ingests_only_what_each_device_may_send(
    hub: Hub, mosquitto: int
) -> None:
    """The whole path on the locked-down broker: a forged leak never reaches the hub."""
    settings = Settings(
        mqtt_url=f"mqtt://127.0.0.1:{mosquitto}",  # type: ignore[arg-type]
        mqtt_username="fhub-bridge",
        mqtt_password=hub.passwords["fhub-bridge"],  # type: ignore[arg-type]
        adapters="tasmota,zigbee2mqtt",
    )
    bridge = Bridge(settings, session_factory(hub.engine), client_id=new_client_id("bridge"))
    bridge.start()
    device = Client(mosquitto, "leak-a", hub.passwords["leak-a"], v5=True)
    light = Client(mosquitto, "light-t", hub.passwords["light-t"], v5=True)
    gateway = Client(mosquitto, "z2m-gw", hub.passwords["z2m-gw"], v5=True)

    def signals(device_id: str) -> int:
        with session_factory(hub.engine)() as session:
            query = select(func.count()).select_from(Signal).where(Signal.device_id == device_id)
            return session.scalar(query) or 0

    try:
        assert bridge.wait_subscribed()
        assert device.publish(f"{B}/telemetry", b'{"leak": true}').value == 135  # type: ignore[union-attr]
        device.publish(f"{A}/telemetry", b'{"leak": true}')
        light.publish("tele/corridor_1/LWT", b"Online")
        light.publish("stat/corridor_1/POWER", b"ON")
        gateway.publish("zigbee2mqtt/pipe-3", b'{"water_leak": true, "linkquality": 60}')
        assert gateway.publish(f"{B}/telemetry", b'{"leak": true}').value == 135  # type: ignore[union-attr]
        assert wait_for(
            lambda: (signals("leak-a"), signals("light-t"), signals("leak-z")) == (1, 2, 1)
        )
        assert wait_for(bridge.idle)
        assert signals("leak-b") == 0
        with session_factory(hub.engine)() as session:
            raised = session.scalars(select(Alarm.device_id).order_by(Alarm.device_id)).all()
        assert raised == ["leak-a", "leak-z"]
    finally:
        for client in (device, light, gateway):
            client.close()
        bridge.stop()


@pytest.mark.mosquitto
def test_bridge_workers_on_a_shared_subscription_pass_the_acl(hub: Hub, mosquitto: int) -> None:
    """Several workers share `$share/{group}/fh/+/+/+/+`: judged by the filter, as `fh/#` read."""
    worker = Client(mosquitto, "fhub-bridge", hub.passwords["fhub-bridge"], v5=True)
    device = Client(mosquitto, "leak-a", hub.passwords["leak-a"], v5=True)
    try:
        assert not worker.subscribe("$share/fhub/fh/+/+/+/+")[0].is_failure
        device.publish(f"{A}/telemetry", b'{"leak": false}')
        assert wait_for(lambda: worker.messages == [(f"{A}/telemetry", b'{"leak": false}')])
    finally:
        worker.close()
        device.close()
