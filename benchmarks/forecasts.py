"""The forecasts cell: a seeded month replayed for dispensers, batteries and lamps, and the cost.

Not the demo clock: a simulation stepped in memory through the hub's own forecasting
(`hub.forecasts.projection`) and reorder arithmetic (`hub.parts.policy`), with the decisions
the forecast pass takes (`hub.forecasts.flows`: lead time, confidence, gathering).

- Dispensers: 200 (4 per floor), each with its own daily use (20–70 %/day) on a daily
  pattern (quiet nights, morning and evening peaks, busier weekends), use noise per
  10 minutes and reading noise (σ 1 %, σ 4 % on one in twenty). Cleaners work 06:00–22:00
  and reach an order after a lognormal delay (median 60 min, at most 6 h); an order refills every
  dispenser it lists. The threshold policy orders at 10 % (`supplies_low`, grouped per floor
  while open); the forecast policy also orders when the forecast runs out within the lead
  time (SLA 30 min + 450: 8 h) and gathers the floor's dispensers due within 16 hours. Both replay
  the same seeded month. `runs_out_at` errors come from a third replay where nobody refills
  until three hours after empty: the forecast 2 h and 6 h before each true run-out.
- Batteries: 2,000 sensors in 20 buildings, lasting 60–400 days, readings hourly; a
  replacement order is done 1–5 days after it opens. Silent = the battery reached 2 %.
- Lamps (case 3): 600 corridor lamps failing ~10 a week (Poisson), lead time 14 days; the
  day the reorder comes against the day the shelf would be empty, and the stock with orders.
- Cost: one forecast of each of 10,000 devices' tracks (5,000 restrooms × 3 + 5,000 batteries).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from devices.restroom import FORECAST
from hub.forecasts.enums import Outlook
from hub.forecasts.projection import Settings, Track
from hub.forecasts.service import BATTERY, DISPENSER
from hub.parts.policy import outlook

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
STEP = timedelta(minutes=10)
LEAD = timedelta(minutes=30 + FORECAST.params["lead_min"])
"""The cleaning SLA's resolve minutes (normal priority) plus the rule's lead: 8 hours."""
GATHER = timedelta(hours=FORECAST.params["gather_h"])
MIN_CONFIDENCE = FORECAST.params["min_confidence"]
LOW = 10.0
PATTERN = [0.1] * 6 + [
    0.6,
    2.2,
    2.0,
    1.0,
    1.0,
    1.2,
    1.6,
    1.0,
    0.9,
    0.9,
    1.0,
    1.3,
    2.2,
    2.0,
    1.6,
    1.0,
]
PATTERN += [0.5, 0.2]


@dataclass
class Dispenser:
    """One simulated dispenser: its floor, daily use, noise, level and track."""

    floor: int
    daily: float
    noise: float
    level: float = 100.0
    track: Track = field(default_factory=Track)


def _use(rng: random.Random, d: Dispenser, at: datetime) -> float:
    weight = PATTERN[at.hour] / (sum(PATTERN) / 24)
    if at.weekday() >= 5:
        weight *= 1.3
    return d.daily / 144 * weight * rng.uniform(0.4, 1.6)


def _fleet(rng: random.Random, count: int) -> list[Dispenser]:
    return [
        Dispenser(
            floor=n // 4,
            daily=rng.uniform(20, 70),
            noise=4.0 if rng.random() < 0.05 else 1.0,
            level=rng.uniform(30, 100),
        )
        for n in range(count)
    ]


def _arrival(rng: random.Random, opened: datetime) -> datetime:
    start = opened
    if not 6 <= start.hour < 22:
        start = (start + timedelta(hours=8)).replace(hour=6, minute=0)
    return start + timedelta(minutes=min(rng.lognormvariate(math.log(60), 0.8), 360))


@dataclass
class Replay:
    """What one policy's month did."""

    empty_minutes: int = 0
    orders: int = 0
    device_minutes: int = 0
    errors: dict[int, list[float]] = field(default_factory=lambda: {2: [], 6: []})


def _replay_dispensers(count: int, days: int, policy: str, seed: int) -> Replay:
    """Replay a month under `threshold`, `forecast` or `late` (refill 3 h after empty)."""
    rng, noise_rng, order_rng = (
        random.Random(seed),
        random.Random(seed + 1),
        random.Random(seed + 2),
    )
    fleet = _fleet(rng, count)
    warmup = 7 * 144
    steps = warmup + days * 144
    orders: dict[int, tuple[datetime, set[int]]] = {}
    empty_since: dict[int, datetime] = {}
    predictions: dict[int, list[tuple[datetime, datetime | None]]] = {n: [] for n in range(count)}
    out = Replay(device_minutes=count * days * 1440)
    for k in range(steps):
        at = START - timedelta(days=7) + k * STEP
        counting = k >= warmup
        for n, d in enumerate(fleet):
            d.level = max(0.0, d.level - _use(rng, d, at))
            reading = min(100.0, max(0.0, round(d.level + noise_rng.gauss(0, d.noise), 1)))
            d.track.observe(at, reading, DISPENSER)
            if d.level <= 0:
                if counting:
                    out.empty_minutes += 10
                empty_since.setdefault(n, at)
            if policy == "late":
                if n in empty_since and at - empty_since[n] >= timedelta(hours=3):
                    _errors(predictions[n], empty_since.pop(n), out)
                    d.level = 100.0
                continue
            if not counting and d.level < 15:
                d.level = 100.0  # the warm-up week is looked after by hand
            if reading <= LOW:
                _order(orders, d.floor, n, at, order_rng, out, counting)
        if policy in ("forecast", "late") and k % 2 == 0:
            _forecast_step(fleet, orders, at, order_rng, out, counting, policy, predictions)
        for floor, (arrive, members) in list(orders.items()):
            if at >= arrive:
                for n in members:
                    fleet[n].level = 100.0
                    empty_since.pop(n, None)
                del orders[floor]
    return out


def _order(
    orders: dict[int, tuple[datetime, set[int]]],
    floor: int,
    n: int,
    at: datetime,
    rng: random.Random,
    out: Replay,
    counting: bool,
) -> None:
    if floor in orders:
        orders[floor][1].add(n)
        return
    orders[floor] = (_arrival(rng, at), {n})
    if counting:
        out.orders += 1


def _forecast_step(
    fleet: list[Dispenser],
    orders: dict[int, tuple[datetime, set[int]]],
    at: datetime,
    rng: random.Random,
    out: Replay,
    counting: bool,
    policy: str,
    predictions: dict[int, list[tuple[datetime, datetime | None]]],
) -> None:
    forecasts = [d.track.forecast(at, DISPENSER) for d in fleet]
    if policy == "late":
        for n, fc in enumerate(forecasts):
            predictions[n].append((at, fc.runs_out_at))
        return
    for n, fc in enumerate(forecasts):
        d = fleet[n]
        if (
            fc.outlook == Outlook.falling
            and fc.runs_out_at is not None
            and fc.runs_out_at <= at + LEAD
            and fc.confidence >= MIN_CONFIDENCE
        ):
            _order(orders, d.floor, n, at, rng, out, counting)
            for m, other in enumerate(fleet):
                due = forecasts[m].runs_out_at
                if other.floor == d.floor and due is not None and due <= at + GATHER:
                    orders[d.floor][1].add(m)


def _errors(
    predicted: list[tuple[datetime, datetime | None]], empty_at: datetime, out: Replay
) -> None:
    for hours in (2, 6):
        target = empty_at - timedelta(hours=hours)
        near = [p for p in predicted if abs((p[0] - target).total_seconds()) <= 600]
        if near and near[0][1] is not None:
            out.errors[hours].append(abs((near[0][1] - empty_at).total_seconds()) / 60)
    predicted.clear()


def dispensers(count: int, days: int, seed: int = 25) -> dict[str, Any]:
    """Empty share and orders under both policies, and the run-out errors."""
    threshold = _replay_dispensers(count, days, "threshold", seed)
    forecast = _replay_dispensers(count, days, "forecast", seed)
    late = _replay_dispensers(count, days, "late", seed)
    out: dict[str, Any] = {
        "forecast_dispensers": count,
        "forecast_days": days,
        "dispenser_empty_pct_threshold": round(
            100 * threshold.empty_minutes / threshold.device_minutes, 3
        ),
        "dispenser_empty_pct_forecast": round(
            100 * forecast.empty_minutes / forecast.device_minutes, 3
        ),
        "dispenser_orders_threshold": threshold.orders,
        "dispenser_orders_forecast": forecast.orders,
    }
    for hours, errors in late.errors.items():
        errors.sort()
        out[f"runs_out_error_{hours}h_median_min"] = (
            round(statistics.median(errors)) if errors else None
        )
        out[f"runs_out_error_{hours}h_p90_min"] = (
            round(errors[int(0.9 * (len(errors) - 1))]) if errors else None
        )
        out[f"runs_out_error_{hours}h_samples"] = len(errors)
    return out


@dataclass
class Sensor:
    """One simulated leak sensor's battery."""

    building: int
    drain: float
    level: float
    track: Track = field(default_factory=Track)


def batteries(count: int, days: int, seed: int = 26) -> dict[str, Any]:
    """Sensors gone silent under the forecast policy, and replacements in grouped orders."""
    rng = random.Random(seed)
    sensors = [
        Sensor(n % 20, 100 / (rng.uniform(60, 400) * 24), rng.uniform(5, 100)) for n in range(count)
    ]
    orders: dict[int, tuple[datetime, set[int]]] = {}
    silent = replaced = grouped = opened = 0
    hours = (7 + days) * 24
    for k in range(hours):
        at = START - timedelta(days=7) + timedelta(hours=k)
        for s in sensors:
            if s.level <= 2:
                continue
            if k < 7 * 24 and s.level < 15:
                s.level = 100.0  # the warm-up week's low batteries were replaced by hand
            s.level = max(0.0, s.level - s.drain)
            s.track.observe(at, round(s.level + rng.gauss(0, 0.2), 1), BATTERY)
            if s.level <= 2:
                silent += 1
        if k < 7 * 24 or k % 6:
            continue
        _battery_orders(sensors, orders, at, rng)
        for building, (done, members) in list(orders.items()):
            if at >= done:
                for n in members:
                    sensors[n].level = 100.0
                replaced += len(members)
                grouped += len(members) if len(members) > 1 else 0
                opened += 1
                del orders[building]
    return {
        "battery_sensors": count,
        "battery_silent_pct": round(100 * silent / count, 3),
        "battery_replacements": replaced,
        "battery_grouped_pct": round(100 * grouped / replaced, 1) if replaced else None,
        "battery_orders": opened,
    }


def _battery_orders(
    sensors: list[Sensor],
    orders: dict[int, tuple[datetime, set[int]]],
    at: datetime,
    rng: random.Random,
) -> None:
    reach: dict[int, float] = {}
    for n, s in enumerate(sensors):
        fc = s.track.forecast(at, BATTERY)
        if fc.outlook == Outlook.falling and fc.level is not None and fc.rate_per_hour:
            reach[n] = max(fc.level - 15, 0) / fc.rate_per_hour
        elif s.level < 15 and s.level > 2:
            reach[n] = 0.0  # battery_low
    due = {sensors[n].building for n, h in reach.items() if h <= 14 * 24}
    for building in due:
        members = {n for n, h in reach.items() if sensors[n].building == building and h <= 30 * 24}
        if building in orders:
            orders[building][1].update(members)
        else:
            orders[building] = (at + timedelta(days=rng.uniform(1, 5)), members)


def lamps(seed: int = 27) -> dict[str, Any]:
    """Case 3: the reorder alarm's lead over the stock-out, and the stock with reorders."""
    rng = random.Random(seed)
    used = [_poisson(rng, 10 / 7) for _ in range(90)]  # the last three months' failures
    stock, lead = 45, 14
    alarm_day = stock_out_day = None
    for day in range(120):
        taken = min(_poisson(rng, 10 / 7), stock)
        stock -= taken
        used.append(taken)
        today = date(2026, 11, 1) + timedelta(days=day)
        view = outlook(
            used=sum(used[-90:]),
            window_days=90,
            stock=stock,
            on_order=0,
            min_stock=5,
            lead_days=lead,
            today=today,
        )
        if alarm_day is None and view.due(today):
            alarm_day = day
        if stock == 0:
            stock_out_day = day
            break
    reorder_lead = None
    if alarm_day is not None and stock_out_day is not None:
        reorder_lead = stock_out_day - alarm_day
    lowest, short = _lamps_with_orders(random.Random(seed + 1), days=180, lead=lead)
    return {
        "lamp_reorder_lead_days": reorder_lead,
        "lamp_lead_goal_days": lead + 3,
        "lamp_lowest_stock_with_orders": lowest,
        "lamp_days_short_with_orders": short,
    }


def _lamps_with_orders(rng: random.Random, days: int, lead: int) -> tuple[int, int]:
    """Six months of failures with each reorder acted on: the lowest stock, the days short."""
    stock, arrivals = 45, dict[int, int]()
    used = [_poisson(rng, 10 / 7) for _ in range(90)]
    lowest, short = stock, 0
    for day in range(days):
        stock += arrivals.pop(day, 0)
        need = _poisson(rng, 10 / 7)
        taken = min(need, stock)
        short += need > taken
        stock -= taken
        used.append(taken)
        lowest = min(lowest, stock)
        today = date(2026, 11, 1) + timedelta(days=day)
        view = outlook(
            used=sum(used[-90:]),
            window_days=90,
            stock=stock,
            on_order=sum(arrivals.values()),
            min_stock=5,
            lead_days=lead,
            today=today,
        )
        if view.due(today):
            arrivals[day + lead] = arrivals.get(day + lead, 0) + math.ceil(view.daily_use * 60)
    return lowest, short


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def cost(devices: int = 10_000, seed: int = 28) -> dict[str, Any]:
    """Seconds for one forecast of every track of a `devices`-device site (after a week)."""
    rng = random.Random(seed)
    tracks: list[tuple[Track, Settings]] = []
    week = 7 * 24
    now = START + timedelta(hours=week)
    for n in range(devices // 2):
        for _quantity in range(3):
            track = Track()
            level, daily = 100.0, rng.uniform(20, 70)
            for h in range(week):
                at = START + timedelta(hours=h)
                level -= daily / 24 * PATTERN[at.hour] / (sum(PATTERN) / 24)
                if level < 5:
                    level = 100.0
                track.observe(at, round(level + rng.gauss(0, 1), 1), DISPENSER)
            tracks.append((Track.from_dict(track.to_dict()), DISPENSER))
        battery = Track()
        for h in range(0, week, 6):
            battery.observe(START + timedelta(hours=h), 80 - h * 0.01 * (1 + n % 3), BATTERY)
        tracks.append((battery, BATTERY))
    started = time.perf_counter()
    due = sum(
        1
        for track, settings in tracks
        if (fc := track.forecast(now, settings)).runs_out_at is not None
        and fc.runs_out_at <= now + LEAD
    )
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    baseline = time.perf_counter() - started
    return {
        "forecast_baseline_s": round(baseline, 3),
        "forecast_pass_devices": devices,
        "forecast_pass_tracks": len(tracks),
        "forecast_pass_s": round(seconds, 3),
        "forecast_pass_due": due,
    }


def run(quick: bool) -> dict[str, Any]:
    """Every figure of the cell (smaller fleets and a shorter month for `--quick`)."""
    out: dict[str, Any] = {}
    out.update(dispensers(24 if quick else 200, 5 if quick else 30))
    out.update(batteries(200 if quick else 2_000, 5 if quick else 30))
    out.update(lamps())
    out.update(cost(1_000 if quick else 10_000))
    return out


if __name__ == "__main__":
    import json
    import sys

    sys.stdout.write(json.dumps(run("--quick" in sys.argv), indent=1) + "\n")
