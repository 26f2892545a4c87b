"""What the cells run against: free ports, Mosquitto and the embedded broker, a fresh database
with the bench fleet registered, and the hub's bridge workers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from benchmarks.mix import BenchDevice
from benchmarks.plan import (
    BENCH_PEPPER,
    POSTGRES_ADMIN_URL,
    SITE,
)
from hub import migrate
from hub.db import make_engine, normalise_url
from hub.registry.models import Device, Location, Site
from hub.registry.service import DEFAULT_HEARTBEAT_S


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Block until something listens on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[int]:
    """A dedicated Mosquitto for the run, stock settings except the per-client queue bound."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise RuntimeError("mosquitto is not installed")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 100000\n",
        encoding="ascii",
    )
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def embedded_broker() -> Iterator[int]:
    """The embedded amqtt broker as `fhub broker` runs it."""
    port = free_port()
    proc = subprocess.Popen(
        [fhub(), "broker", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FH_LOG_LEVEL": "WARNING"},
    )
    try:
        wait_port(port, 30)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def fhub() -> str:
    """The `fhub` executable beside this interpreter."""
    candidate = Path(sys.executable).with_name("fhub")
    return str(candidate) if candidate.exists() else "fhub"


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh, migrated database of `kind` (sqlite or postgres), dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    admin_url = normalise_url(POSTGRES_ADMIN_URL)
    name = f"fh_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def latency_fleet(count: int) -> list[BenchDevice]:
    """Leak sensors, each in a building of its own so no two alarms group into one order."""
    return [BenchDevice(SITE, "leak", f"lat-{n:04d}", f"lat{n:04d}/1") for n in range(count)]


def register(engine: Engine, devices: list[BenchDevice]) -> None:
    """Register the site, the location tree and every device with Core bulk inserts."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"id": SITE, "name": "基准 Bench", "created_at": now}])
        paths: dict[str, int] = {}
        buildings = sorted({d.location.split("/")[0] for d in devices})
        for code in buildings:
            paths[code] = conn.execute(
                insert(Location).returning(Location.id),
                {
                    "site_id": SITE,
                    "parent_id": None,
                    "kind": "building",
                    "code": code,
                    "name": code,
                    "path": code,
                },
            ).scalar_one()
        floors = sorted({d.location for d in devices})
        rows = [
            {
                "site_id": SITE,
                "parent_id": paths[p.split("/")[0]],
                "kind": "floor",
                "code": p.split("/")[1],
                "name": p,
                "path": p,
            }
            for p in floors
        ]
        conn.execute(insert(Location), rows)
        ids: dict[str, int] = dict(
            conn.execute(text("SELECT path, id FROM locations WHERE site_id = :s"), {"s": SITE})
            .tuples()
            .all()
        )
        conn.execute(
            insert(Device),
            [
                {
                    "id": d.id,
                    "site_id": SITE,
                    "kind": d.kind,
                    "name": d.id,
                    "location_id": ids[d.location],
                    "heartbeat_timeout_s": DEFAULT_HEARTBEAT_S[d.kind],
                    "status": "offline",
                    "created_at": now,
                }
                for d in devices
            ],
        )


@contextlib.contextmanager
def hub_workers(
    db_url: str,
    mqtt_port: int,
    count: int,
    tag: str,
    protocol: str = "5",
    extra_env: dict[str, str] | None = None,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` bridge workers (`fhub serve --bridge`), sharing one subscription if several.

    Their logs go to files beside the run (an unread pipe would stall a chatty worker).
    """
    procs = []
    logs = []
    client_ids = [f"fhub-bench-{tag}-{n}" for n in range(count)]
    for n, client_id in enumerate(client_ids):
        env = {
            **os.environ,
            "FH_DATABASE_URL": db_url,
            "FH_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "FH_MQTT_CLIENT_ID": client_id,
            "FH_TOKEN_PEPPER": BENCH_PEPPER,
            "FH_LOG_LEVEL": "WARNING",
            "FH_MQTT_PROTOCOL": protocol,
            **(extra_env or {}),
        }
        if count > 1:
            env["FH_MQTT_SHARE_GROUP"] = f"bench{tag}"
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
            prefix=f"fhub-bench-{tag}-{n}-", suffix=".log", delete=False
        )
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [fhub(), "serve", "--bridge", "--no-api", "--no-scheduler"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        )
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
            Path(log.name).unlink(missing_ok=True)
        end_sessions(mqtt_port, client_ids, protocol)


def end_sessions(port: int, client_ids: list[str], protocol: str) -> None:
    """Discard the stopped workers' persistent sessions on the broker.

    A bridge keeps its session when it stops, so that a restart gets what was queued
    meanwhile. Left behind, each one would make the broker queue every later cell's
    traffic for a subscriber that never comes back, and bill it to the cells after.
    """
    for client_id in client_ids:
        if protocol == "5":
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
            )
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0
            client.connect("127.0.0.1", port, clean_start=True, properties=props)
        else:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
            )
            client.connect("127.0.0.1", port)
        client.loop_start()
        deadline = time.monotonic() + 10
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)
        client.disconnect()
        client.loop_stop()
