"""Forecasts on synthetic series whose answer is known."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.forecasts.enums import Outlook
from hub.forecasts.projection import Settings, Track

T0 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)
DISPENSER = Settings()


def _feed(track: Track, levels: list[float], *, start: datetime = T0) -> datetime:
    at = start
    for level in levels:
        track.observe(at, level, DISPENSER)
        at += STEP
    return at - STEP


def _busy(hour: int) -> float:
    """Use per hour: none at night, a morning and an evening peak (mean about 1)."""
    return {7: 3.0, 8: 3.0, 12: 2.0, 18: 3.0, 19: 3.0}.get(hour, 0.0 if hour < 6 else 0.8)


def test_constant_rate_runs_out_when_the_line_reaches_zero() -> None:
    track = Track()
    last = _feed(track, [100 - 0.5 * k for k in range(60)])  # 3 %/h for 10 hours
    fc = track.forecast(last, DISPENSER)
    assert fc.outlook == Outlook.falling
    assert fc.level is not None
    assert abs(fc.level - 70.5) < 0.01
    assert fc.rate_per_hour is not None
    assert abs(fc.rate_per_hour - 3.0) < 1e-6
    assert fc.runs_out_at is not None
    assert abs((fc.runs_out_at - (last + timedelta(hours=23.5))).total_seconds()) < 60
    assert fc.confidence > 0.9
    assert fc.earliest is not None
    assert fc.latest is not None
    assert fc.earliest <= fc.runs_out_at <= fc.latest


def _daily_levels(days: int, per_day: float, start_level: float = 100.0) -> list[float]:
    levels, level = [], start_level
    weights = [_busy(h) for h in range(24)]
    scale = per_day / sum(weights)
    for k in range(days * 144):
        levels.append(level)
        hour = (k * 10 // 60) % 24
        level = max(0.0, level - scale * weights[hour] / 6)
    return levels


def test_a_daily_pattern_puts_the_run_out_in_busy_hours() -> None:
    track = Track()
    # Two days learn the pattern (40 %/day), a refill at midnight, then half a day.
    history = _daily_levels(2, 40, 100)
    _feed(track, history)
    run = _daily_levels(1, 40, 100)[:78]  # until 13:00 on day three
    last = _feed(track, run, start=T0 + timedelta(days=2))
    fc = track.forecast(last, DISPENSER)
    assert fc.outlook == Outlook.falling
    assert fc.runs_out_at is not None
    truth_level = run[-1]
    # The truth: 40 %/day on the pattern, so the remaining level lasts truth_level/40 days of use.
    days_left = truth_level / 40
    assert 1.0 < days_left < 3.0
    hour = fc.runs_out_at.hour
    assert _busy(hour) > 0, f"runs out at {hour}:00, a night hour with no use"
    # Within two hours of the pattern's true run-out.
    truth = _true_run_out(last, truth_level, 40)
    assert abs((fc.runs_out_at - truth).total_seconds()) < 2 * 3600, (fc.runs_out_at, truth)


def _true_run_out(at: datetime, level: float, per_day: float) -> datetime:
    weights = [_busy(h) for h in range(24)]
    scale = per_day / sum(weights)
    t = at
    while level > 0:
        t += STEP
        level -= scale * weights[t.hour] / 6
    return t


def test_a_refill_midway_starts_a_new_run() -> None:
    track = Track()
    _feed(track, [60 - 0.5 * k for k in range(60)])
    refill_at = T0 + 60 * STEP
    assert track.observe(refill_at, 100.0, DISPENSER)
    last = _feed(track, [100 - 0.5 * k for k in range(1, 20)], start=refill_at + STEP)
    fc = track.forecast(last, DISPENSER)
    assert fc.since == refill_at
    assert fc.outlook == Outlook.falling
    assert fc.level is not None
    assert abs(fc.level - 90.5) < 0.5
    assert fc.runs_out_at is not None
    hours_left = (fc.runs_out_at - last).total_seconds() / 3600
    assert abs(hours_left - 90.5 / 3) < 1.0


def test_a_flat_level_gives_no_run_out() -> None:
    track = Track()
    rng = random.Random(1)
    last = _feed(track, [80 + rng.uniform(-0.4, 0.4) for _ in range(72)])
    fc = track.forecast(last, DISPENSER)
    assert fc.outlook == Outlook.flat
    assert fc.runs_out_at is None


def test_noise_without_a_trend_is_noisy_not_falling() -> None:
    track = Track()
    rng = random.Random(2)
    last = _feed(track, [min(100, max(0, 60 + rng.gauss(0, 8))) for _ in range(72)])
    fc = track.forecast(last, DISPENSER)
    assert fc.outlook in {Outlook.noisy, Outlook.flat}
    assert fc.runs_out_at is None


def test_noise_around_a_trend_still_finds_it_with_less_confidence() -> None:
    rng = random.Random(3)
    clean, noisy = Track(), Track()
    levels = [100 - 0.5 * k for k in range(90)]
    last = _feed(clean, levels)
    _feed(noisy, [lv + rng.gauss(0, 1.5) for lv in levels])
    a, b = clean.forecast(last, DISPENSER), noisy.forecast(last, DISPENSER)
    assert b.outlook == Outlook.falling
    assert a.runs_out_at is not None
    assert b.runs_out_at is not None
    assert abs((a.runs_out_at - b.runs_out_at).total_seconds()) < 3 * 3600
    assert b.confidence < a.confidence


def test_a_stuck_sensor_is_told_apart_when_visits_go_on() -> None:
    track = Track()
    at = T0
    for k in range(40):
        track.observe(at, 100 - 0.5 * k, DISPENSER, visits=k)
        at += STEP
    for k in range(40, 60):
        track.observe(at, 80.5, DISPENSER, visits=k)
        at += STEP
    assert track.forecast(at - STEP, DISPENSER).outlook == Outlook.stuck


def test_a_stuck_sensor_is_told_apart_by_the_use_it_should_show() -> None:
    track = Track()
    last = _feed(track, [100 - 0.5 * k for k in range(100)])  # learns 3 %/h
    track.observe(last + STEP, 100.0, DISPENSER)  # refilled
    last = _feed(track, [99.0] * 30, start=last + 2 * STEP)
    assert track.forecast(last, DISPENSER).outlook == Outlook.stuck


def test_silence_is_reported_as_such() -> None:
    track = Track()
    last = _feed(track, [100 - 0.5 * k for k in range(60)])
    fc = track.forecast(last + timedelta(hours=3), DISPENSER)
    assert fc.outlook == Outlook.silent
    assert fc.runs_out_at is None


def test_the_track_survives_its_json_form() -> None:
    track = Track()
    last = _feed(track, _daily_levels(2, 40)[:200])
    again = Track.from_dict(track.to_dict())
    a, b = track.forecast(last, DISPENSER), again.forecast(last, DISPENSER)
    assert a.outlook == b.outlook
    assert a.runs_out_at is not None
    assert b.runs_out_at is not None
    assert abs((a.runs_out_at - b.runs_out_at).total_seconds()) < 120


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=0.2, max_value=10.0),
    start=st.floats(min_value=30.0, max_value=100.0),
    readings=st.integers(min_value=8, max_value=80),
)
def test_any_constant_rate_is_found_exactly(rate: float, start: float, readings: int) -> None:
    per_step = rate / 6
    levels = [start - per_step * k for k in range(readings)]
    if levels[-1] <= 1:
        return
    track = Track()
    last = _feed(track, levels)
    fc = track.forecast(last, DISPENSER)
    assert fc.outlook == Outlook.falling
    assert fc.runs_out_at is not None
    expected = last + timedelta(hours=levels[-1] / rate)
    assert math.isclose(
        (fc.runs_out_at - T0).total_seconds(), (expected - T0).total_seconds(), abs_tol=90
    )
