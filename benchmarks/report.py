"""BENCHMARKS.md: the table of one run, with machine, versions, date and command."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from benchmarks.plan import Results, percentile

GOALS: list[tuple[str, str, float]] = [
    ("ingest_qos0_ratio", ">=", 0.7),
    ("ingest_qos1_ratio", ">=", 0.8),
    ("embedded_ratio", ">=", 0.7),
    ("event_to_order_p99_ms", "<=", 50.0),
    ("rss_mb", "<=", 300.0),
    ("two_workers_ratio", ">=", 1.6),
    ("evidence_check_ratio", ">=", 0.5),
    ("evidence_export_p95_s", "<=", 2.0),
    ("evidence_pdf_p95_s", "<=", 3.0),
    ("correlation_p95_ms", "<=", 30.0),
    ("correlation_p99_ms", "<=", 60.0),
    ("influx_sink_ratio", ">=", 0.9),
    ("influx_backlog_drain_ratio", ">=", 5.0),
    ("page_p95_ms", "<=", 100.0),
    ("page_10k_p95_ms", "<=", 300.0),
    ("ledger_p95_ms", "<=", 150.0),
    ("sse_p95_ms", "<=", 1000.0),
    ("load_pages_per_s", ">=", 50.0),
    ("load_recovery_s", "<=", 5.0),
    ("report_postgres_p95_ms", "<=", 1000.0),
    ("report_sqlite_p95_ms", "<=", 3000.0),
    ("dispenser_empty_pct_forecast", "<=", 0.5),
    ("battery_silent_pct", "<=", 0.0),
    ("lamp_reorder_lead_days", ">=", 17.0),
    ("lamp_lowest_stock_with_orders", ">=", 0.0),
    ("forecast_pass_s", "<=", 2.0),
]


GIVE_UP_S = 10.0
"""How long an overload client of `benchmarks/load.py` waits (its `GIVE_UP`)."""

ANALYSIS_MARK = "<!-- analysis: kept when the page is regenerated -->"


def kept_analysis(path: Path) -> str:
    """The hand-written analysis at the end of an existing page, from its marker on."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    at = text.find(ANALYSIS_MARK)
    return "\n" + text[at:] if at >= 0 else ""


def machine() -> str:
    """CPU model, cores and memory of this machine."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except OSError:
        memory = "unknown memory"
    return f"{model}, {os.cpu_count()} cores, {memory}, {platform.system()} {platform.release()}"


def goal_met(value: Any, op: str, target: float) -> str:
    """'met', 'not met' or 'not measured'."""
    if value is None:
        return "not measured"
    ok = value >= target if op == ">=" else value <= target
    return "met" if ok else "not met"


def render(results: Results, figures: dict[str, Any], command: str) -> str:
    """The Markdown page."""
    lines = [
        "# Benchmarks",
        "",
        f"- command: `{command}`",
        f"- date: {results.started_at:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in sorted(results.versions.items())),
        "",
        "Each ratio is the hub's throughput over the raw ceiling measured in the same run, on",
        "the same broker, with the same publisher and message mix: a bare paho subscriber that",
        "only parses the JSON (MQTT 5 with the largest Receive Maximum on Mosquitto, as the hub's"
        " bridge; 3.1.1 on amqtt, which has no MQTT 5). The publisher, the broker, the database"
        " and the hub share the",
        "machine's cores. Hub cells run `fhub serve --bridge` in its own process, with rule",
        "evaluation and durable signal storage, 10,000 registered devices.",
        "",
        "## Throughput",
        "",
        "| cell | broker | database | QoS | workers | msg/s | raw msg/s | ratio | CPU % "
        "| machine % | peak RSS MB | sent | taken in |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results.cells:
        ratio = f"{c.ratio:.2f}" if c.ratio is not None else ""
        raw = f"{c.raw_msgs_per_s:,.0f}" if c.raw_msgs_per_s else ""
        lines.append(
            f"| {c.name} | {c.broker} | {c.database} | {c.qos} | {c.workers} | "
            f"{c.msgs_per_s:,.0f} | {raw} | {ratio} | {c.cpu_pct:.0f} | {c.machine_pct:.0f} | "
            f"{c.peak_rss_mb:.0f} | "
            f"{c.sent:,} | {c.accounted:,} |"
        )
    lat = results.latencies_ms
    lines += [
        "",
        "CPU % is the measured processes (the raw subscriber, or the hub workers) as a share of"
        " one core; machine % is how busy all the machine's cores were, 100 = every core.",
        "",
        "## Event → order latency",
        "",
        "From publishing a leak message to the work order being committed and visible, under",
        "1,000 msg/s of background telemetry (Mosquitto, PostgreSQL). The order table is polled",
        "every 5 ms, so each figure may be up to 5 ms above the truth.",
        "",
        "| samples | p50 ms | p95 ms | p99 ms | max ms | one order each |",
        "|---|---|---|---|---|---|",
        f"| {len(lat)} | {percentile(lat, 50):.1f} | {percentile(lat, 95):.1f} | "
        f"{percentile(lat, 99):.1f} | {max(lat, default=float('nan')):.1f} | "
        f"{'yes' if results.latency_orders_ok else 'NO'} |",
        "",
        *_correlation(results),
        *_reports(results),
        *_load(results),
        *_forecasts(results),
        "## Goals",
        "",
        "| figure | goal | measured | |",
        "|---|---|---|---|",
    ]
    for key, op, target in GOALS:
        value = figures.get(key)
        lines.append(f"| {key} | {op} {target:g} | {value} | {goal_met(value, op, target)} |")
    lines += [
        "",
        f"Two workers on one shared subscription: exactly-once signals and orders under "
        f"duplicate delivery: {'yes' if results.two_workers_exactly_once else 'NO'}. "
        f"Every message accounted for (stored + dead-lettered = sent): "
        f"{'yes' if figures.get('all_accounted') else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


def _forecasts(results: Results) -> list[str]:
    """The forecasts section: a replayed month under both cleaning policies, batteries, lamps."""
    f = results.forecasts
    if not f:
        return []
    return [
        "## Forecasts and parts (a seeded month, `benchmarks/forecasts.py`)",
        "",
        f"{f['forecast_dispensers']} dispensers over {f['forecast_days']} days:",
        "",
        "| policy | dispenser-minutes empty % | cleaning orders |",
        "|---|---|---|",
        f"| threshold (10 %) | {f['dispenser_empty_pct_threshold']} |"
        f" {f['dispenser_orders_threshold']} |",
        f"| forecast | {f['dispenser_empty_pct_forecast']} | {f['dispenser_orders_forecast']} |",
        "",
        f"`runs_out_at` error, minutes: 2 h before empty median"
        f" {f['runs_out_error_2h_median_min']}, p90 {f['runs_out_error_2h_p90_min']};"
        f" 6 h before median {f['runs_out_error_6h_median_min']},"
        f" p90 {f['runs_out_error_6h_p90_min']}.",
        f"Batteries: {f['battery_sensors']} sensors, {f['battery_silent_pct']} % gone silent,"
        f" {f['battery_grouped_pct']} % of {f['battery_replacements']} replacements in grouped"
        f" orders ({f['battery_orders']} orders).",
        f"Lamps (case 3): the reorder comes {f['lamp_reorder_lead_days']} days before the shelf"
        f" is empty (goal {f['lamp_lead_goal_days']}); acted on for six months, the lowest"
        f" stock is {f['lamp_lowest_stock_with_orders']}.",
        f"Cost: one forecast of the {f['forecast_pass_tracks']:,} tracks of"
        f" {f['forecast_pass_devices']:,} devices took {f['forecast_pass_s']} s"
        f" (a bare 10-million-step loop: {f['forecast_baseline_s']} s in the same run).",
        "",
    ]


def _correlation(results: Results) -> list[str]:
    """The correlation section: the history it ran on, and the timings per database."""
    if not results.correlation:
        return []
    any_cell = next(iter(results.correlation.values()))
    size = any_cell["size"]
    lines = [
        "## Correlation at intake",
        "",
        f"`correlate_complaint` for {size.samples} complaints registered one at a time, each",
        f"rolled back, on a site with {size.signals:,} signals, {size.devices:,} devices,",
        f"{size.alarms:,} alarms (1 % active) and {size.complaints:,} complaints"
        " (`benchmarks/correlation.py`).",
        "",
        "| database | populate s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, cell in sorted(results.correlation.items()):
        t = cell["timings"]
        worst = max(t, default=float("nan"))
        lines.append(
            f"| {kind} | {cell['populate_s']} | {percentile(t, 50):.1f} | "
            f"{percentile(t, 95):.1f} | {percentile(t, 99):.1f} | {worst:.1f} |"
        )
    return [*lines, ""]


def _reports(results: Results) -> list[str]:
    """The reports section: the history they ran on, and p95 per report and database."""
    if not results.reports:
        return []
    size = next(iter(results.reports.values()))["size"]
    lines = [
        "## Reports",
        "",
        f"Each report built over one year, {size.samples} times, on a site with"
        f" {size.devices:,} devices, {size.orders:,} work orders (with their deadlines, holds"
        f" and alarms) and {size.complaints:,} complaints (`benchmarks/reports.py`).",
        "",
        "| database | populate s | report | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, cell in sorted(results.reports.items()):
        for name, t in cell["timings"].items():
            lines.append(
                f"| {kind} | {cell['populate_s']} | {name} | {percentile(t, 50):.0f} | "
                f"{percentile(t, 95):.0f} | {max(t, default=float('nan')):.0f} |"
            )
    return [*lines, ""]


def _load(results: Results) -> list[str]:
    """Pages under load (`benchmarks/load.py`): each phase, and what the machine was doing."""
    if not results.load:
        return []
    d = results.load["load_detail"]
    lines = [
        "## Pages under load",
        "",
        f"`fhub serve` (API and pages) on PostgreSQL, {d['streams_open']} live streams open"
        " throughout, pages of the engineer, the desk and the manager in turn, over loopback"
        f" (`benchmarks/load.py`), {d['seconds']:.0f} s a phase. Capacity: 16 clients, each"
        " loading a page when the last answered. Steady and overload: pages started at a"
        " fixed rate whatever the answers; in the overload clients hang up after"
        f" {GIVE_UP_S:.0f} s. Recovery: from the last page of the overload to the first page"
        " answered 200 to one client loading pages one after another.",
        "",
        "| phase | started | answered 200 | pages/s | p50 ms | p95 ms | refused (503) |"
        " gave up | other |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("capacity", "steady", "overload"):
        p = d[name]
        other = ", ".join(f"{k}: {v}" for k, v in p["errors"].items()) or "-"
        lines.append(
            f"| {name} | {p['started']} | {p['ok']} | {p['ok_per_s']} | {p['p50_ms']} |"
            f" {p['p95_ms']} | {p['refused_share']:.1%} | {p['abandoned']} | {other} |"
        )
    lines += [
        "",
        f"Recovery: {d['recovery_s']} s; the overload's last pages were answered, refused or"
        f" given up {d['overload_drained_s']} s after the last one started. In the capacity"
        " phase the hub process spent"
        f" {d['server_cpu_ms_per_page']} ms of CPU per page answered (one core at most: the"
        " pages' Python runs under one interpreter lock). The hub process used"
        f" {d['server_cpu_pct']:.0f} % of"
        f" one core over the three phases; the machine was {d['machine_busy_pct']:.0f} % busy"
        f" (load average {d['load_average_before']} before, {d['load_average_after']} after).",
        "",
    ]
    return lines
