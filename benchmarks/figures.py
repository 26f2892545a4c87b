"""The figures of `fhub bench --json`, from a run's results, and the versions measured."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from typing import Any

from sqlalchemy import create_engine, text

from benchmarks.plan import (
    POSTGRES_ADMIN_URL,
    CellResult,
    Results,
    percentile,
)
from hub.db import normalise_url


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
        **{k: v for k, v in results.load.items() if k != "load_detail"},
        **results.forecasts,
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
