"""Runs the benchmark cells and gathers the figures of `fhub bench`."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import bindparam, create_engine, insert, text
from sqlalchemy.engine import Connection, Engine, make_url

from benchmarks import correlation, procstat, raw
from benchmarks import reports as report_cell
from benchmarks.mix import BenchDevice, fleet
from benchmarks.progress import Progress
from benchmarks.publisher import publish
from hub import migrate
from hub.db import make_engine, normalise_url
from hub.registry.models import Device, Location, Site
from hub.registry.service import DEFAULT_HEARTBEAT_S

SITE = "bench"
POSTGRES_ADMIN_URL = os.environ.get(
    "FH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BENCH_PEPPER = "bench-" + uuid.uuid4().hex


@dataclass(frozen=True)
class Plan:
    """How long and how big the run is."""

    window_s: float
    warmup_s: float
    devices: int
    latency_samples: int
    backlog: int
    sqlite_cells: bool

    @classmethod
    def make(cls, quick: bool) -> Plan:
        """The full plan (≥ 30 s a cell) or the quick one (under a minute in all)."""
        if quick:
            return cls(2.5, 0.5, 10_000, 16, 5_000, sqlite_cells=False)
        return cls(30.0, 3.0, 10_000, 200, 20_000, sqlite_cells=True)


@dataclass
class CellResult:
    """One measured cell."""

    name: str
    broker: str
    database: str
    qos: int
    workers: int
    msgs_per_s: float
    cpu_pct: float = 0.0
    machine_pct: float = 0.0
    peak_rss_mb: float = 0.0
    sent: int = 0
    accounted: int = 0
    raw_msgs_per_s: float | None = None

    @property
    def ratio(self) -> float | None:
        """Hub throughput over the raw ceiling of the same broker and QoS."""
        if not self.raw_msgs_per_s:
            return None
        return self.msgs_per_s / self.raw_msgs_per_s


@dataclass
class Results:
    """Everything measured in one run."""

    cells: list[CellResult] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    latency_orders_ok: bool = True
    two_workers_exactly_once: bool = False
    correlation: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per database: correlation at intake (`benchmarks.correlation.run`)."""
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per database: each report over a year (`benchmarks.reports.run`)."""
    versions: dict[str, str] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    evidence: dict[str, Any] = field(default_factory=dict)
    influx: dict[str, Any] = field(default_factory=dict)
    """The InfluxDB sink's cells (`benchmarks.influx.run`)."""
    web: dict[str, Any] = field(default_factory=dict)
    """Server time per page and live-stream delivery (`benchmarks.web.run`)."""


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


class Counter:
    """How many messages the hub has taken in: stored signals plus dead letters.

    While a cell runs it sums the devices' chain-head counts (`device_states.signal_count`,
    written in the same transaction as the signals): 10,000 rows, where counting `signals`
    four times a second would scan a table of hundreds of thousands and take CPU from the
    hub being measured. The final accounting counts the rows themselves.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.base = self._count()
        self.exact_base = self._count(exact=True)

    def _count(self, exact: bool = False) -> int:
        stored = (
            "SELECT count(*) FROM signals"
            if exact
            else "SELECT coalesce(sum(signal_count), 0) FROM device_states"
        )
        with self.engine.connect() as conn:
            signals = conn.execute(text(stored)).scalar_one()
            dead = conn.execute(text("SELECT count(*) FROM dead_letters")).scalar_one()
        return int(signals) + int(dead)

    def value(self) -> int:
        """Messages taken in since this counter was made."""
        return self._count() - self.base

    def exact(self) -> int:
        """The same, from the stored rows themselves."""
        return self._count(exact=True) - self.exact_base


def run_cell(
    *,
    name: str,
    plan: Plan,
    port: int,
    qos: int,
    devices: list[BenchDevice],
    progress: Progress,
    counter: Counter | None,
    pids: list[int],
) -> tuple[float, int, int, float, float, float]:
    """Publish for the plan's window while measuring the subscriber side.

    With `counter` None the raw subscriber is started here; otherwise the hub workers in
    `pids` are measured through the database. Returns (msg/s, sent, taken in, CPU % of the
    measured processes, their peak RSS, busy % of the whole machine's cores).
    """
    ctx = multiprocessing.get_context("spawn")
    stop_pub = ctx.Event()
    sent = ctx.Value("q", 0, lock=False)
    processed = ctx.Value("q", 0, lock=False)
    raw_proc = None
    raw_stop = ctx.Event()
    if counter is None:
        ready = ctx.Event()
        raw_proc = ctx.Process(
            target=raw.run,
            args=("127.0.0.1", port, qos, processed, ready, raw_stop, f"fhub-bench-raw-{name}"),
            kwargs={"mqtt5": "amqtt" not in name},
        )
        raw_proc.start()
        if not ready.wait(20):
            raise RuntimeError("raw subscriber did not subscribe")
        pids = [raw_proc.pid or 0]

    def taken() -> int:
        if counter is None:
            return int(processed.value)
        value = counter.value()
        processed.value = value
        return value

    prefix = f"{name}-{uuid.uuid4().hex[:6]}"
    pub = ctx.Process(
        target=publish,
        kwargs={
            "host": "127.0.0.1",
            "port": port,
            "qos": qos,
            "devices": devices,
            "prefix": prefix,
            "stop": stop_pub,
            "sent": sent,
            "processed": processed,
            "backlog": plan.backlog,
            "rate": None,
        },
    )
    pub.start()
    start = time.monotonic()
    while taken() == 0:
        if time.monotonic() - start > 30:
            raise RuntimeError(f"{name}: nothing arrived")
        time.sleep(0.05)
    time.sleep(plan.warmup_s)
    t0, n0 = time.monotonic(), taken()
    cpu0 = sum(procstat.sample(p).cpu_s for p in pids)
    busy0, total0 = procstat.machine_busy_s()
    while (elapsed := time.monotonic() - t0) < plan.window_s:
        progress.update(name, elapsed / plan.window_s, taken() - n0)
        time.sleep(0.25)
    t1, n1 = time.monotonic(), taken()
    cpu1 = sum(procstat.sample(p).cpu_s for p in pids)
    busy1, total1 = procstat.machine_busy_s()
    machine = 100.0 * (busy1 - busy0) / max(total1 - total0, 1e-9)
    rss = max(procstat.sample(p).peak_rss_mb for p in pids)
    stop_pub.set()
    pub.join(60)
    total_sent = int(sent.value)
    last, stalled_since = taken(), time.monotonic()
    while last < total_sent and time.monotonic() - stalled_since < 10:
        time.sleep(0.1)
        if (now := taken()) != last:
            last, stalled_since = now, time.monotonic()
    final = taken() if counter is None else counter.exact()
    if raw_proc is not None:
        raw_stop.set()
        raw_proc.join(20)
        final = int(processed.value)
    rate = (n1 - n0) / (t1 - t0)
    cpu_pct = 100.0 * (cpu1 - cpu0) / (t1 - t0)
    progress.done(name, f"{rate:,.0f} msg/s")
    return rate, total_sent, final, cpu_pct, rss, machine


def ingest_cell(
    *,
    name: str,
    plan: Plan,
    engine: Engine,
    db_url: str,
    port: int,
    qos: int,
    devices: list[BenchDevice],
    progress: Progress,
    workers: int = 1,
    duplicates: list[BenchDevice] | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[CellResult, bool]:
    """One hub cell: start the workers, wait until they take traffic, measure.

    With `duplicates`, each of those leak sensors then sends one alarm message twice (same
    id) while the workers still run; True if each ended with exactly one signal and one order.
    """
    counter = Counter(engine)
    protocol = "3.1.1" if name.startswith("amqtt") else "5"
    with hub_workers(db_url, port, workers, name, protocol, extra_env) as procs:
        _wait_until_ingesting(port, devices[0], counter, procs)
        time.sleep(1.0 if workers > 1 else 0.2)  # every worker joins the shared group
        counter.base += counter.value()
        counter.exact_base += counter.exact()
        rate, sent, final, cpu, rss, machine = run_cell(
            name=name,
            plan=plan,
            port=port,
            qos=qos,
            devices=devices,
            progress=progress,
            counter=counter,
            pids=[p.pid for p in procs],
        )
        exactly_once = True if not duplicates else _exactly_once(engine, port, duplicates)
    broker, database_kind = name.split("-")[:2]
    cell = CellResult(
        name=name,
        broker=broker,
        database=database_kind,
        qos=qos,
        workers=workers,
        msgs_per_s=rate,
        cpu_pct=cpu,
        machine_pct=machine,
        peak_rss_mb=rss,
        sent=sent,
        accounted=final,
    )
    return cell, exactly_once


def _per_device(conn: Connection, table: str, ids: list[str]) -> dict[str, int]:
    """Rows per device id in `table` (a fixed table name, never user input)."""
    query = text(
        f"SELECT device_id, count(*) FROM {table} WHERE device_id IN :ids GROUP BY device_id"
    ).bindparams(bindparam("ids", expanding=True))
    return {str(d): int(n) for d, n in conn.execute(query, {"ids": ids}).tuples().all()}


def _exactly_once(engine: Engine, port: int, devices: list[BenchDevice]) -> bool:
    """Send each device's alarm message twice; expect one signal and one order per device."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"fhub-bench-dup-{uuid.uuid4().hex[:6]}"
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    for device in devices:
        body = f'{{"leak": true, "battery": 70, "id": "dup-{device.id}"}}'
        for _ in range(2):
            client.publish(device.telemetry_topic, body, qos=1).wait_for_publish(10)
    ids = [d.id for d in devices]
    deadline = time.monotonic() + 20
    ok = False
    while time.monotonic() < deadline and not ok:
        time.sleep(0.25)
        with engine.connect() as conn:
            signals = _per_device(conn, "signals", ids)
            orders = _per_device(conn, "work_orders", ids)
        ok = all(signals.get(i) == 1 and orders.get(i) == 1 for i in ids)
    client.loop_stop()
    client.disconnect()
    return ok


def _wait_until_ingesting(
    port: int, device: BenchDevice, counter: Counter, procs: list[subprocess.Popen[bytes]]
) -> None:
    """Publish probes until the hub stores one (the workers are connected and subscribed)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"fhub-bench-probe-{uuid.uuid4().hex[:6]}"
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 60
    n = 0
    try:
        while counter.value() == 0:
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"hub worker exited with status {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the hub stored nothing within 60 s")
            n += 1
            client.publish(
                device.telemetry_topic,
                f'{{"on": true, "power_w": 9.5, "id": "probe-{uuid.uuid4().hex}"}}'
                if device.kind == "light"
                else _probe(device.kind),
                qos=1,
            )
            time.sleep(0.2)
    finally:
        client.loop_stop()
        client.disconnect()


def _probe(kind: str) -> str:
    bodies = {
        "leak": '"leak": false, "battery": 90',
        "restroom": '"paper_pct": 90',
        "gate": '"arm": "down", "loop_occupied": false',
        "light": '"on": true, "power_w": 9.5',
    }
    return f'{{{bodies[kind]}, "id": "probe-{uuid.uuid4().hex}"}}'


def latency_cell(
    *,
    plan: Plan,
    engine: Engine,
    db_url: str,
    port: int,
    devices: list[BenchDevice],
    triggers: list[BenchDevice],
    progress: Progress,
) -> tuple[list[float], bool]:
    """Publish → order committed, under 1k msg/s of background telemetry.

    A leak trigger goes out every 250 ms while a poller watches the work-order table every
    5 ms; the poll interval makes each figure an over-estimate by up to 5 ms.
    """
    counter = Counter(engine)
    ctx = multiprocessing.get_context("spawn")
    stop_pub = ctx.Event()
    sent, processed = ctx.Value("q", 0, lock=False), ctx.Value("q", 0, lock=False)
    published: dict[str, float] = {}
    seen: dict[str, float] = {}
    orders_per_device: dict[str, int] = {}
    with hub_workers(db_url, port, 1, "latency") as procs:
        _wait_until_ingesting(port, devices[0], counter, procs)
        pub = ctx.Process(
            target=publish,
            kwargs={
                "host": "127.0.0.1",
                "port": port,
                "qos": 1,
                "devices": devices,
                "prefix": f"lat-bg-{uuid.uuid4().hex[:6]}",
                "stop": stop_pub,
                "sent": sent,
                "processed": processed,
                "backlog": plan.backlog,
                "rate": 1000.0,
            },
        )
        pub.start()
        time.sleep(1.0)
        stop_poll = threading.Event()

        def poll() -> None:
            last_id = 0
            with engine.connect() as conn:
                while not stop_poll.is_set():
                    rows = conn.execute(
                        text("SELECT id, device_id FROM work_orders WHERE id > :last ORDER BY id"),
                        {"last": last_id},
                    ).all()
                    conn.commit()
                    now = time.perf_counter()
                    for order_id, device_id in rows:
                        last_id = max(last_id, order_id)
                        if device_id in published:
                            seen.setdefault(device_id, now)
                            orders_per_device[device_id] = orders_per_device.get(device_id, 0) + 1
                    time.sleep(0.005)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"fhub-bench-trig-{uuid.uuid4().hex[:6]}"
        )
        client.connect("127.0.0.1", port)
        client.loop_start()
        for i, device in enumerate(triggers[: plan.latency_samples]):
            body = f'{{"leak": true, "battery": 88, "id": "trigger-{uuid.uuid4().hex}"}}'
            published[device.id] = time.perf_counter()
            client.publish(device.telemetry_topic, body, qos=1)
            progress.update("latency", (i + 1) / plan.latency_samples, len(seen))
            time.sleep(0.25)
        deadline = time.monotonic() + 10
        while len(seen) < len(published) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        stop_poll.set()
        poller.join(5)
        stop_pub.set()
        pub.join(30)
        client.loop_stop()
        client.disconnect()
    latencies = sorted((seen[d] - published[d]) * 1000 for d in seen)
    exactly_once = len(seen) == len(published) and all(n == 1 for n in orders_per_device.values())
    p99 = percentile(latencies, 99) if latencies else float("nan")
    progress.done("latency", f"p99 {p99:.1f} ms")
    return latencies, exactly_once


def percentile(values: list[float], pct: float) -> float:
    """The `pct` percentile (nearest rank) of sorted `values`."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, round(pct / 100 * len(values) + 0.5) - 1))
    return sorted(values)[rank]


def run(quick: bool) -> Results:
    """Run every cell of the plan and return the figures."""
    plan = Plan.make(quick)
    results = Results(versions=versions())
    devices = fleet(SITE, plan.devices)
    triggers = latency_fleet(max(plan.latency_samples, 16) + 20)
    duplicates = triggers[-20:]
    progress = Progress()
    with tempfile.TemporaryDirectory(prefix="fhub-bench-") as tmp:
        workdir = Path(tmp)
        with mosquitto(workdir) as mport:
            for qos in (0, 1):
                rate, sent, got, cpu, rss, machine = run_cell(
                    name=f"raw-mosquitto-qos{qos}",
                    plan=plan,
                    port=mport,
                    qos=qos,
                    devices=devices,
                    progress=progress,
                    counter=None,
                    pids=[],
                )
                results.cells.append(
                    _raw_cell(
                        f"raw-mosquitto-qos{qos}",
                        "mosquitto",
                        qos,
                        rate,
                        cpu,
                        machine,
                        rss,
                        sent,
                        got,
                    )
                )
                for kind in ("postgres", "sqlite") if plan.sqlite_cells else ("postgres",):
                    with database(kind, workdir) as (url, engine):
                        register(engine, devices + triggers)
                        cell, _ = ingest_cell(
                            name=f"mosquitto-{kind}-qos{qos}",
                            plan=plan,
                            engine=engine,
                            db_url=url,
                            port=mport,
                            qos=qos,
                            devices=devices,
                            progress=progress,
                        )
                        cell.raw_msgs_per_s = rate
                        results.cells.append(cell)
                        if kind == "postgres" and qos == 1:
                            two, once = ingest_cell(
                                name="mosquitto-postgres-qos1-2workers",
                                plan=plan,
                                engine=engine,
                                db_url=url,
                                port=mport,
                                qos=1,
                                devices=devices,
                                progress=progress,
                                workers=2,
                                duplicates=duplicates,
                            )
                            two.raw_msgs_per_s = rate
                            results.cells.append(two)
                            results.two_workers_exactly_once = once
                            lat, ok = latency_cell(
                                plan=plan,
                                engine=engine,
                                db_url=url,
                                port=mport,
                                devices=devices,
                                triggers=triggers,
                                progress=progress,
                            )
                            results.latencies_ms = lat
                            results.latency_orders_ok = ok
        with embedded_broker() as eport:
            rate, sent, got, cpu, rss, machine = run_cell(
                name="raw-amqtt-qos0",
                plan=plan,
                port=eport,
                qos=0,
                devices=devices,
                progress=progress,
                counter=None,
                pids=[],
            )
            results.cells.append(
                _raw_cell("raw-amqtt-qos0", "amqtt", 0, rate, cpu, machine, rss, sent, got)
            )
            with database("sqlite", workdir) as (url, engine):
                register(engine, devices + triggers)
                cell, _ = ingest_cell(
                    name="amqtt-sqlite-qos0",
                    plan=plan,
                    engine=engine,
                    db_url=url,
                    port=eport,
                    qos=0,
                    devices=devices,
                    progress=progress,
                )
                cell.raw_msgs_per_s = rate
                results.cells.append(cell)
        for kind in ("postgres", "sqlite"):
            with database(kind, workdir) as (_url, engine):
                results.correlation[kind] = correlation.run(engine, quick)
                timings = results.correlation[kind]["timings"]
                progress.done(f"correlation-{kind}", f"p95 {percentile(timings, 95):.1f} ms")
        for kind in ("postgres", "sqlite"):
            with database(kind, workdir) as (_url, engine):
                results.reports[kind] = report_cell.run(engine, quick)
                worst = max(percentile(t, 95) for t in results.reports[kind]["timings"].values())
                progress.done(f"reports-{kind}", f"worst p95 {worst:.0f} ms")
    from benchmarks import evidence, evidence_pdf, influx

    results.evidence = evidence.run(quick) | evidence_pdf.run(quick)
    results.influx = influx.run(quick)
    from benchmarks import web

    results.web = web.run(quick)
    progress.done(
        "web", f"page p95 {results.web['page_p95_ms']} ms, sse p95 {results.web['sse_p95_ms']} ms"
    )
    return results


def _raw_cell(
    name: str,
    broker: str,
    qos: int,
    rate: float,
    cpu: float,
    machine: float,
    rss: float,
    sent: int,
    got: int,
) -> CellResult:
    """A raw-ceiling cell's result."""
    return CellResult(
        name=name,
        broker=broker,
        database="-",
        qos=qos,
        workers=1,
        msgs_per_s=rate,
        cpu_pct=cpu,
        machine_pct=machine,
        peak_rss_mb=rss,
        sent=sent,
        accounted=got,
    )


def versions() -> dict[str, str]:
    """Versions of what is measured."""
    from importlib.metadata import version

    found = {"python": sys.version.split()[0]}
    for package in ("paho-mqtt", "amqtt", "sqlalchemy", "psycopg", "facility-hub"):
        with contextlib.suppress(Exception):
            found[package] = version(package)
    with contextlib.suppress(Exception):
        out = subprocess.run(
            [shutil.which("mosquitto") or "mosquitto", "-h"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        found["mosquitto"] = (out.stdout or out.stderr).splitlines()[0].split()[2]
    with contextlib.suppress(Exception):
        admin = create_engine(normalise_url(POSTGRES_ADMIN_URL))
        with admin.connect() as conn:
            found["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar_one())
        admin.dispose()
    return found


def figures(results: Results) -> dict[str, Any]:
    """The JSON object of `fhub bench --json`."""
    by = {c.name: c for c in results.cells}

    def cell(name: str) -> CellResult | None:
        return by.get(name)

    q0, q1 = cell("mosquitto-postgres-qos0"), cell("mosquitto-postgres-qos1")
    emb, two = cell("amqtt-sqlite-qos0"), cell("mosquitto-postgres-qos1-2workers")
    lat = results.latencies_ms
    hub_cells = [c for c in results.cells if not c.name.startswith("raw")]
    out: dict[str, Any] = {
        "raw_qos0_msgs": _r(by["raw-mosquitto-qos0"].msgs_per_s),
        "ingest_qos0_msgs": _r(q0.msgs_per_s) if q0 else None,
        "ingest_qos0_ratio": _r(q0.ratio, 3) if q0 else None,
        "raw_qos1_msgs": _r(by["raw-mosquitto-qos1"].msgs_per_s),
        "ingest_qos1_msgs": _r(q1.msgs_per_s) if q1 else None,
        "ingest_qos1_ratio": _r(q1.ratio, 3) if q1 else None,
        "raw_embedded_msgs": _r(by["raw-amqtt-qos0"].msgs_per_s),
        "embedded_msgs": _r(emb.msgs_per_s) if emb else None,
        "embedded_ratio": _r(emb.ratio, 3) if emb else None,
        "event_to_order_p50_ms": _r(percentile(lat, 50), 1),
        "event_to_order_p95_ms": _r(percentile(lat, 95), 1),
        "event_to_order_p99_ms": _r(percentile(lat, 99), 1),
        "event_to_order_samples": len(lat),
        "rss_mb": _r(max((c.peak_rss_mb for c in hub_cells), default=0.0), 1),
        "two_workers_ratio": _r(two.msgs_per_s / q1.msgs_per_s, 3) if two and q1 else None,
        "two_workers_exactly_once": results.two_workers_exactly_once,
        "latency_orders_exactly_once": results.latency_orders_ok,
        "all_accounted": all(c.accounted == c.sent for c in hub_cells),
        **results.evidence,
        **results.influx,
        **results.web,
    }
    out.update(correlation_figures(results))
    out.update(report_figures(results))
    for c in results.cells:
        if c.name.startswith("mosquitto-sqlite"):
            out[f"ingest_sqlite_qos{c.qos}_msgs"] = _r(c.msgs_per_s)
            out[f"ingest_sqlite_qos{c.qos}_ratio"] = _r(c.ratio, 3)
    return out


def correlation_figures(results: Results) -> dict[str, Any]:
    """Correlation at intake: per database, and the worse of the two as the headline."""
    out: dict[str, Any] = {}
    for kind, cell in results.correlation.items():
        for pct in (50, 95, 99):
            out[f"correlation_{kind}_p{pct}_ms"] = _r(percentile(cell["timings"], pct), 1)
    for pct in (95, 99):
        values = [v for k, v in out.items() if k.endswith(f"_p{pct}_ms") and v is not None]
        out[f"correlation_p{pct}_ms"] = max(values) if values else None
    return out


def report_figures(results: Results) -> dict[str, Any]:
    """`report_p95_ms` per report and database, and the worst report per database."""
    out: dict[str, Any] = {}
    for kind, cell in results.reports.items():
        worst: list[float] = []
        for name, timings in cell["timings"].items():
            value = _r(percentile(timings, 95), 1)
            out[f"report_{name.replace('-', '_')}_{kind}_p95_ms"] = value
            if value is not None:
                worst.append(value)
        out[f"report_{kind}_p95_ms"] = max(worst) if worst else None
    return out


def _r(value: float | None, digits: int = 0) -> float | None:
    if value is None or value != value:  # NaN
        return None
    return round(value, digits) if digits else float(round(value))


def median(values: list[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")
