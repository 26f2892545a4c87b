"""What a benchmark run measures: its plan, a cell's result, the run's results, percentiles."""

from __future__ import annotations

import os
import statistics
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
    load: dict[str, Any] = field(default_factory=dict)
    """Pages under load with 200 live streams (`benchmarks.load.run`)."""
    forecasts: dict[str, Any] = field(default_factory=dict)
    """The replayed month of dispensers, batteries and lamps (`benchmarks.forecasts.run`)."""


def percentile(values: list[float], pct: float) -> float:
    """The `pct` percentile (nearest rank) of sorted `values`."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, round(pct / 100 * len(values) + 0.5) - 1))
    return sorted(values)[rank]


def median(values: list[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")
