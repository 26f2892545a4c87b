"""The bridge over TLS (`mqtts://`): a Mosquitto of its own with a TLS listener."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bridges.mqtt import Bridge, new_client_id
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.models import Signal
from tests.bridges.conftest import free_port, wait_for
from tests.pipeline import register, unique_site
from tests.services import port_open, unavailable

pytestmark = pytest.mark.mosquitto


def _tool(name: str, fallback: str) -> str:
    found = shutil.which(name) or fallback
    if not Path(found).exists():
        unavailable(name, "not installed")
    return found


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A Mosquitto listening with TLS only, on a self-signed certificate for 127.0.0.1."""
    cert, key = tmp_path / "broker.crt", tmp_path / "broker.key"
    subprocess.run(
        [_tool("openssl", "/usr/bin/openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"user root\nlistener {port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n"
        "allow_anonymous true\npersistence false\n",
        encoding="ascii",
    )
    proc = subprocess.Popen(
        [_tool("mosquitto", "/usr/sbin/mosquitto"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for(lambda: port_open("127.0.0.1", port, 0.2), timeout=10):
            proc.kill()
            pytest.fail(f"TLS Mosquitto did not start: {proc.communicate()[1]!r}")
        yield port, cert
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_bridge_ingests_over_tls(tls_broker: tuple[int, Path], fresh_engine: Engine) -> None:
    port, cert = tls_broker
    site = unique_site("tls")
    with session_factory(fresh_engine)() as session:
        register(session, ManualClock(), site, [("light-b3-f12", DeviceKind.light, "3/12")])
        session.commit()
    settings = Settings(mqtt_url=f"mqtts://127.0.0.1:{port}", mqtt_ca_file=cert)  # type: ignore[arg-type]
    bridge = Bridge(
        settings,
        session_factory(fresh_engine),
        client_id=new_client_id("bridge"),
        topics=[f"fh/{site}/+/+/+"],
    )
    bridge.start()
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("light"))
    device.tls_set(ca_certs=str(cert))
    try:
        assert bridge.wait_subscribed()
        device.connect("127.0.0.1", port)
        device.loop_start()
        infos = [
            device.publish(
                f"fh/{site}/light/light-b3-f12/telemetry",
                f'{{"id": "t-{n}", "on": true, "power_w": {n % 40}.5}}',
                qos=n % 2,
            )
            for n in range(400)
        ]
        infos[-1].wait_for_publish(20)

        def stored() -> int:
            with session_factory(fresh_engine)() as session:
                return session.scalar(select(func.count()).select_from(Signal)) or 0

        assert wait_for(lambda: stored() == 400), stored()
    finally:
        device.disconnect()
        device.loop_stop()
        bridge.stop()
