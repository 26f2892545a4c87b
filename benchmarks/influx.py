"""The InfluxDB sink's cells: what it costs ingest, and how fast a backlog drains.

`influx_sink_ratio`: hub ingest (Mosquitto, PostgreSQL, QoS 1, one worker) with the sink
writing to a VictoriaMetrics server over the same cell without it, in the same run, in the
order without, with, with, without (a machine that slows down or speeds up during the run
weighs on both sides alike). The worker's CPU a message with and without the sink is
reported beside it: the sink's own cost, however busy the machine is.

`influx_backlog_drain_ratio`: a sink holding 100,000 points while its server is down;
once the server is up, the points it writes a second until the backlog is empty, over
the live rate (the with-sink cell's messages a second, each at least one point).
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.cells import ingest_cell
from benchmarks.mix import fleet
from benchmarks.plan import SITE, CellResult, Plan
from benchmarks.progress import Progress
from benchmarks.services import database, free_port, mosquitto, register
from bridges.influx import InfluxSink
from bridges.lineproto import Place
from hub.signals.changes import AcceptedSignal, Changes

BACKLOG_POINTS = 100_000
VICTORIA_METRICS = "/usr/bin/victoria-metrics"


@contextlib.contextmanager
def victoria_metrics(workdir: Path, port: int | None = None) -> Iterator[str]:
    """A VictoriaMetrics on a free port (InfluxDB v2 writes on /api/v2/write); its URL."""
    binary = shutil.which("victoria-metrics") or VICTORIA_METRICS
    if not Path(binary).exists():
        raise RuntimeError("victoria-metrics is not installed (Debian package victoria-metrics)")
    port = port or free_port()
    data = workdir / f"vm-{port}"
    proc = subprocess.Popen(
        [
            binary,
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={data}",
            "-search.latencyOffset=0s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _samples(url: str) -> int:
    """Samples the server holds for the bench site (every field of every point)."""
    httpx.get(f"{url}/internal/force_flush", timeout=30)
    query = f'sum(count_over_time({{site="{SITE}"}}[1d]))'
    body = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=60).json()
    result = body.get("data", {}).get("result", [])
    return int(float(result[0]["value"][1])) if result else 0


def sink_cells(
    plan: Plan, workdir: Path, progress: Progress, quick: bool = False
) -> dict[str, Any]:
    """The same hub cell without and with the sink; their rates and the samples written."""
    devices = fleet(SITE, plan.devices)
    with (
        mosquitto(workdir) as port,
        victoria_metrics(workdir) as url,
        database("postgres", workdir) as (db_url, engine),
    ):
        register(engine, devices)
        sink_env = {"FH_INFLUX_URL": url, "FH_INFLUX_TOKEN": "bench"}
        cells: dict[str, list[CellResult]] = {"off": [], "on": []}
        # ABBA: a drift of the machine cancels out (the quick run takes one of each)
        for turn in ("off", "on") if quick else ("off", "on", "on", "off"):
            cell, _ = ingest_cell(
                name=f"mosquitto-postgres-qos1-influx-{turn}",
                plan=plan,
                engine=engine,
                db_url=db_url,
                port=port,
                qos=1,
                devices=devices,
                progress=progress,
                extra_env=sink_env if turn == "on" else None,
            )
            cells[turn].append(cell)
        samples = _samples(url)
    off = statistics.mean(c.msgs_per_s for c in cells["off"])
    on = statistics.mean(c.msgs_per_s for c in cells["on"])

    def cpu_us(turn: str) -> float:
        """CPU of the hub worker a message, µs: the sink's own cost, whatever the machine."""
        return round(statistics.mean(1e4 * c.cpu_pct / c.msgs_per_s for c in cells[turn]), 1)

    return {
        "influx_off_msgs": round(off),
        "influx_on_msgs": round(on),
        "influx_sink_ratio": round(on / off, 3),
        "influx_off_cpu_us_per_msg": cpu_us("off"),
        "influx_on_cpu_us_per_msg": cpu_us("on"),
        "influx_samples_written": samples,
        "influx_all_accounted": all(c.accounted == c.sent for c in cells["on"]),
    }


def _backlog(points: int) -> Iterator[Changes]:
    """Light readings of 1,000 devices, 500 a batch: one point each."""
    start = datetime.now(UTC) - timedelta(hours=1)
    batch: list[AcceptedSignal] = []
    for n in range(points):
        ts = start + timedelta(milliseconds=n)
        payload = {"on": True, "power_w": 9.5, "lux": 120.0, "motion": False}
        device = f"light-{n % 1000:04d}"
        signal = AcceptedSignal(device, SITE, "light", "telemetry", None, ts, payload, "")
        batch.append(signal)
        if len(batch) == 500:
            yield Changes(signals=tuple(batch))
            batch = []
    if batch:
        yield Changes(signals=tuple(batch))


def drain_cell(workdir: Path, points: int, progress: Progress) -> dict[str, Any]:
    """Fill a sink while its server is down, start the server, time the drain."""
    port = free_port()
    sink = InfluxSink(
        url=f"http://127.0.0.1:{port}",
        token="bench",
        org="facility-hub",
        bucket="signals",
        places=lambda ids: dict.fromkeys(ids, Place("b1", "1")),
        capacity=points * 2,
        max_backoff_s=0.5,
    )
    sink.start()
    try:
        for changes in _backlog(points):
            sink(changes)
        deadline = time.monotonic() + 30
        while sink.stats.state != "down" and time.monotonic() < deadline:
            time.sleep(0.05)
        backlog = sink.status()["backlog"]
        with victoria_metrics(workdir, port):
            t0 = time.monotonic()
            while not sink.drained() and time.monotonic() - t0 < 300:
                progress.update("influx-drain", sink.stats.written / points, sink.stats.written)
                time.sleep(0.02)
            elapsed = time.monotonic() - t0
        progress.done("influx-drain", f"{points / elapsed:,.0f} points/s")
    finally:
        sink.stop(timeout=1)
    return {
        "influx_backlog_points": backlog,
        "influx_backlog_drain_s": round(elapsed, 2),
        "influx_backlog_drain_points_s": round(sink.stats.written / elapsed),
        "influx_backlog_lost": points - sink.stats.written,
    }


def run(quick: bool) -> dict[str, Any]:
    """Both cells; the drain over the live rate as `influx_backlog_drain_ratio`."""
    plan = Plan.make(quick)
    progress = Progress()
    with tempfile.TemporaryDirectory(prefix="fhub-bench-influx-") as tmp:
        workdir = Path(tmp)
        figures = sink_cells(plan, workdir, progress, quick)
        figures.update(drain_cell(workdir, BACKLOG_POINTS, progress))
    live = figures["influx_on_msgs"]
    figures["influx_backlog_drain_ratio"] = (
        round(figures["influx_backlog_drain_points_s"] / live, 2) if live else None
    )
    return figures


if __name__ == "__main__":  # the two cells alone: python -m benchmarks.influx [--quick]
    import json
    import sys

    sys.stdout.write(json.dumps(run("--quick" in sys.argv)) + "\n")
