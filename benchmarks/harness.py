"""Runs the benchmark cells and gathers the figures of `fhub bench`."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from benchmarks import correlation, evidence, evidence_pdf, forecasts, influx, load, web
from benchmarks import reports as report_cell
from benchmarks.cells import ingest_cell, latency_cell, raw_result, run_cell
from benchmarks.figures import versions
from benchmarks.mix import BenchDevice, fleet
from benchmarks.plan import (
    SITE,
    CellResult,
    Plan,
    Results,
    percentile,
)
from benchmarks.progress import Progress
from benchmarks.services import (
    database,
    embedded_broker,
    latency_fleet,
    mosquitto,
    register,
)


@dataclass(frozen=True)
class Fleet:
    """The devices a run publishes from, and those that trigger the latency cell's orders."""

    devices: list[BenchDevice]
    triggers: list[BenchDevice]

    @property
    def duplicates(self) -> list[BenchDevice]:
        """The triggers also sent twice, for the two workers' exactly-once check."""
        return self.triggers[-20:]


def run(quick: bool) -> Results:
    """Run every cell of the plan and return the figures."""
    plan = Plan.make(quick)
    results = Results(versions=versions())
    fleet_ = Fleet(fleet(SITE, plan.devices), latency_fleet(max(plan.latency_samples, 16) + 20))
    progress = Progress()
    with tempfile.TemporaryDirectory(prefix="fhub-bench-") as tmp:
        workdir = Path(tmp)
        mosquitto_cells(plan, fleet_, workdir, progress, results)
        embedded_cells(plan, fleet_, workdir, progress, results)
        database_cells(quick, workdir, progress, results)
    results.evidence = evidence.run(quick) | evidence_pdf.run(quick)
    results.influx = influx.run(quick)
    results.web = web.run(quick)
    progress.done(
        "web",
        f"page p95 {results.web['page_p95_ms']} ms, ledger p95 {results.web['ledger_p95_ms']} ms, "
        f"sse p95 {results.web['sse_p95_ms']} ms",
    )
    results.load = load.run(quick)
    progress.done(
        "load",
        f"{results.load['load_pages_per_s']} pages/s, p95 {results.load['load_p95_ms']} ms, "
        f"recovery {results.load['load_recovery_s']} s",
    )
    results.forecasts = forecasts.run(quick)
    progress.done("forecasts", f"pass {results.forecasts['forecast_pass_s']} s")
    return results


def _raw(
    name: str, broker: str, plan: Plan, port: int, qos: int, fleet_: Fleet, progress: Progress
) -> tuple[CellResult, float]:
    """The raw ceiling of one broker and QoS: its cell, and its rate."""
    rate, sent, got, cpu, rss, machine = run_cell(
        name=name,
        plan=plan,
        port=port,
        qos=qos,
        devices=fleet_.devices,
        progress=progress,
        counter=None,
        pids=[],
    )
    return raw_result(name, broker, qos, rate, cpu, machine, rss, sent, got), rate


def mosquitto_cells(
    plan: Plan, fleet_: Fleet, workdir: Path, progress: Progress, results: Results
) -> None:
    """On Mosquitto: the raw ceiling and the hub's ingest at QoS 0 and 1, per database."""
    with mosquitto(workdir) as mport:
        for qos in (0, 1):
            raw, rate = _raw(
                f"raw-mosquitto-qos{qos}", "mosquitto", plan, mport, qos, fleet_, progress
            )
            results.cells.append(raw)
            for kind in ("postgres", "sqlite") if plan.sqlite_cells else ("postgres",):
                with database(kind, workdir) as (url, engine):
                    register(engine, fleet_.devices + fleet_.triggers)
                    cell, _ = ingest_cell(
                        name=f"mosquitto-{kind}-qos{qos}",
                        plan=plan,
                        engine=engine,
                        db_url=url,
                        port=mport,
                        qos=qos,
                        devices=fleet_.devices,
                        progress=progress,
                    )
                    cell.raw_msgs_per_s = rate
                    results.cells.append(cell)
                    if kind == "postgres" and qos == 1:
                        two_workers_and_latency(
                            plan, fleet_, url, engine, mport, rate, progress, results
                        )


def two_workers_and_latency(
    plan: Plan,
    fleet_: Fleet,
    url: str,
    engine: Engine,
    port: int,
    rate: float,
    progress: Progress,
    results: Results,
) -> None:
    """On PostgreSQL at QoS 1: two workers sharing the subscription, then event-to-order."""
    two, once = ingest_cell(
        name="mosquitto-postgres-qos1-2workers",
        plan=plan,
        engine=engine,
        db_url=url,
        port=port,
        qos=1,
        devices=fleet_.devices,
        progress=progress,
        workers=2,
        duplicates=fleet_.duplicates,
    )
    two.raw_msgs_per_s = rate
    results.cells.append(two)
    results.two_workers_exactly_once = once
    lat, ok = latency_cell(
        plan=plan,
        engine=engine,
        db_url=url,
        port=port,
        devices=fleet_.devices,
        triggers=fleet_.triggers,
        progress=progress,
    )
    results.latencies_ms = lat
    results.latency_orders_ok = ok


def embedded_cells(
    plan: Plan, fleet_: Fleet, workdir: Path, progress: Progress, results: Results
) -> None:
    """On the embedded broker: the raw ceiling and the hub on SQLite at QoS 0."""
    with embedded_broker() as eport:
        raw, rate = _raw("raw-amqtt-qos0", "amqtt", plan, eport, 0, fleet_, progress)
        results.cells.append(raw)
        with database("sqlite", workdir) as (url, engine):
            register(engine, fleet_.devices + fleet_.triggers)
            cell, _ = ingest_cell(
                name="amqtt-sqlite-qos0",
                plan=plan,
                engine=engine,
                db_url=url,
                port=eport,
                qos=0,
                devices=fleet_.devices,
                progress=progress,
            )
            cell.raw_msgs_per_s = rate
            results.cells.append(cell)


def database_cells(quick: bool, workdir: Path, progress: Progress, results: Results) -> None:
    """Correlation at intake and the reports, on each database."""
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
