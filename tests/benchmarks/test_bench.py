"""`fhub bench --quick --json` runs against the real services and reports every figure.

No timing is asserted here: the goals live in BENCHMARKS.md, measured as ratios.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import POSTGRES_URL, port_open, unavailable

KEYS = {
    "raw_qos0_msgs",
    "ingest_qos0_msgs",
    "ingest_qos0_ratio",
    "raw_qos1_msgs",
    "ingest_qos1_msgs",
    "ingest_qos1_ratio",
    "raw_embedded_msgs",
    "embedded_msgs",
    "embedded_ratio",
    "event_to_order_p50_ms",
    "event_to_order_p99_ms",
    "rss_mb",
    "two_workers_ratio",
    "correlation_p95_ms",
    "correlation_p99_ms",
    "correlation_sqlite_p95_ms",
    "correlation_postgres_p95_ms",
    "influx_sink_ratio",
    "influx_backlog_drain_ratio",
    "page_p95_ms",
    "page_10k_p95_ms",
    "ledger_p95_ms",
    "sse_p95_ms",
    "load_pages_per_s",
    "load_p95_ms",
    "load_recovery_s",
    "evidence_pdf_p95_s",
}


@pytest.mark.postgres
@pytest.mark.mosquitto
@pytest.mark.timeout(480)
def test_quick_bench_reports_every_key(tmp_path: Path) -> None:
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        unavailable("Mosquitto", "the mosquitto binary is not installed")
    if not port_open("127.0.0.1", 5432):
        unavailable("PostgreSQL", "127.0.0.1:5432")
    fhub = Path(sys.executable).with_name("fhub")
    env = {**os.environ, "FH_BENCH_POSTGRES_URL": POSTGRES_URL}
    done = subprocess.run(
        [str(fhub), "bench", "--quick", "--json", "--output", str(tmp_path / "BENCH.md")],
        capture_output=True,
        text=True,
        timeout=460,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) >= KEYS
    for key in KEYS:
        value = figures[key]
        assert isinstance(value, int | float), (key, value)
        assert math.isfinite(value)
        assert value > 0, key
    assert figures["all_accounted"] is True
    assert figures["two_workers_exactly_once"] is True
    assert figures["latency_orders_exactly_once"] is True
    assert figures["influx_all_accounted"] is True
    assert figures["influx_backlog_lost"] == 0
    page = (tmp_path / "BENCH.md").read_text(encoding="utf-8")
    assert "fhub bench --quick --json" in page
    assert "| mosquitto-postgres-qos1 |" in page
    assert "## Correlation at intake" in page


def test_the_evidence_pdf_cell_prints_the_gate_day() -> None:
    from benchmarks import evidence_pdf

    figures = evidence_pdf.run(quick=True)
    assert figures["evidence_pdf_records"] > 150
    assert figures["evidence_pdf_bytes"] > 1000
    assert figures["evidence_pdf_p95_s"] > 0
