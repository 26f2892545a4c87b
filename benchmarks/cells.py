"""The measured cells: the raw ceiling, ingest through the hub's workers, event-to-order latency."""

from __future__ import annotations

import multiprocessing
import subprocess
import threading
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from benchmarks import procstat, raw
from benchmarks.mix import BenchDevice
from benchmarks.plan import (
    CellResult,
    Plan,
    percentile,
)
from benchmarks.progress import Progress
from benchmarks.publisher import publish
from benchmarks.services import (
    hub_workers,
)


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
    rate, cpu_pct, rss, machine = _window(name, plan, taken, pids, progress)
    stop_pub.set()
    pub.join(60)
    total_sent = int(sent.value)
    _until_quiet(taken, total_sent)
    final = taken() if counter is None else counter.exact()
    if raw_proc is not None:
        raw_stop.set()
        raw_proc.join(20)
        final = int(processed.value)
    progress.done(name, f"{rate:,.0f} msg/s")
    return rate, total_sent, final, cpu_pct, rss, machine


def _window(
    name: str, plan: Plan, taken: Callable[[], int], pids: list[int], progress: Progress
) -> tuple[float, float, float, float]:
    """Measure the plan's window: (msg/s, CPU % of `pids`, their peak RSS, machine busy %)."""
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
    return (n1 - n0) / (t1 - t0), 100.0 * (cpu1 - cpu0) / (t1 - t0), rss, machine


def _until_quiet(taken: Callable[[], int], total_sent: int) -> None:
    """Wait until everything sent is taken in, or nothing more arrives for 10 s."""
    last, stalled_since = taken(), time.monotonic()
    while last < total_sent and time.monotonic() - stalled_since < 10:
        time.sleep(0.1)
        if (now := taken()) != last:
            last, stalled_since = now, time.monotonic()


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

        poller = threading.Thread(
            target=_poll_orders,
            args=(engine, stop_poll, published, seen, orders_per_device),
            daemon=True,
        )
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


def _poll_orders(
    engine: Engine,
    stop: threading.Event,
    published: dict[str, float],
    seen: dict[str, float],
    orders_per_device: dict[str, int],
) -> None:
    """Watch the work-order table every 5 ms: when each triggering device's order appeared."""
    last_id = 0
    with engine.connect() as conn:
        while not stop.is_set():
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


def raw_result(
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
