"""When a level runs out: a use profile by hour of the week, and a trend since the last refill.

Pure arithmetic on readings, no database. A `Track` follows one quantity of one device:

- its `Profile` is the relative use per hour of the week (mean 1), learned from every
  falling stretch seen so far (the drops between consecutive readings, binned by hour);
  a battery's profile stays flat;
- its run is the stretch since the last refill (a `refilled` event, or a jump up in level);
  the level is fitted by least squares against the profile's *use clock* — hours weighted by
  how busy they are — so a restroom that is quiet at night is not forecast to run out at
  night. Running sums keep each reading O(1) and each forecast O(log 168);
- early in a run the rate leans on the rate of earlier runs (a prior with half its value as
  spread), then on the run's own readings as they accumulate.

A forecast says `falling` with `runs_out_at` and a band, or why it gives none: `flat`,
`noisy`, `stuck` (one value repeated while visits go on), `silent`, `learning`, `empty`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from hub.forecasts.enums import Outlook

WEEK = 168
EPOCH = datetime(2000, 1, 3, tzinfo=UTC)
"""A Monday: hour 0 of every profile week (UTC; a profile is a pattern, its frame is free)."""
FLOOR_WEIGHT = 0.05
"""The least use an hour is given, so the use clock always moves."""
MIN_DAILY_USE = 0.01
"""Less use than this per day is no use: the level is flat."""
HORIZON_H = 2 * 365 * 24.0
"""A run-out further away than this is no forecast: the level is flat."""
MAX_GAP_H = 3.0
"""A gap between readings longer than this teaches the profile nothing."""


def hours_of(at: datetime) -> float:
    """Hours since the profile epoch."""
    return (at - EPOCH).total_seconds() / 3600


def at_hours(hours: float) -> datetime:
    """The time `hours` after the profile epoch."""
    return EPOCH + timedelta(hours=hours)


class Profile:
    """Relative use per hour of the week, mean 1; maps hours to use-clock units and back."""

    def __init__(self, weights: list[float] | None = None) -> None:
        self.weights = weights or [1.0] * WEEK
        """Normalised by `normalise` when learned (mean 1, none below the floor)."""
        self.cumulative = [0.0, *accumulate(self.weights)]
        self.week = self.cumulative[-1]

    def clock(self, hours: float) -> float:
        """Use-clock units from the epoch to `hours` after it."""
        weeks, rest = divmod(hours, WEEK)
        k = min(int(rest), WEEK - 1)
        return weeks * self.week + self.cumulative[k] + (rest - k) * self.weights[k]

    def hours(self, units: float) -> float:
        """The inverse of `clock`: hours after the epoch at which `units` have passed."""
        weeks, rest = divmod(units, self.week)
        k = min(max(bisect_right(self.cumulative, rest) - 1, 0), WEEK - 1)
        return weeks * WEEK + k + (rest - self.cumulative[k]) / self.weights[k]


FLAT = Profile()
"""The flat profile every battery (and every new track) shares."""


@dataclass(frozen=True)
class Settings:
    """How a track reads its readings."""

    daily: bool = True
    """Learn a use profile by hour of week (dispensers); False keeps it flat (batteries)."""
    jump: float = 10.0
    """A rise of at least this much is a refill (or a new battery)."""
    silent_after: timedelta = timedelta(hours=2)
    noisy_sd: float = 3.0
    """Residual spread above which a level with no clear trend is called noisy."""
    stuck_count: int = 6
    stuck_drop: float = 5.0
    """Repeats whose expected drop (by the prior rate) exceeds this make a sensor stuck."""
    min_readings: int = 4
    floor: float = 0.0


@dataclass
class Track:
    """One quantity of one device: the learned profile and the current run's running sums."""

    weights: list[float] = field(default_factory=lambda: [1.0] * WEEK)
    drop: list[float] = field(default_factory=lambda: [0.0] * WEEK)
    span: list[float] = field(default_factory=lambda: [0.0] * WEEK)
    run_start: float | None = None
    last_at: float | None = None
    last_level: float | None = None
    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0
    syy: float = 0.0
    same: int = 0
    same_since: float | None = None
    visits: int | None = None
    same_visits: int | None = None
    prior: float | None = None
    """Mean use per hour over the stretches seen before this run (fixed at its start)."""
    _profile: Profile | None = field(default=None, repr=False, compare=False)

    @property
    def profile(self) -> Profile:
        """The profile the current run is measured on (fixed for the run)."""
        if self._profile is None:
            flat = self.weights[0] == 1.0 and len(set(self.weights)) == 1
            self._profile = FLAT if flat else Profile(self.weights)
        return self._profile

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (what the forecasts table keeps between passes)."""
        return {
            "weights": [round(w, 4) for w in self.weights],
            "drop": [round(d, 4) for d in self.drop],
            "span": [round(s, 4) for s in self.span],
            **{
                k: getattr(self, k)
                for k in (
                    "run_start",
                    "last_at",
                    "last_level",
                    "n",
                    "sx",
                    "sy",
                    "sxx",
                    "sxy",
                    "syy",
                    "same",
                    "same_since",
                    "visits",
                    "same_visits",
                    "prior",
                )
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Track:
        """The track `to_dict` wrote."""
        return cls(**data)

    def _learn(self, settings: Settings) -> None:
        """Rebuild the profile and the prior rate from the binned drops (at a run's start)."""
        if settings.daily:
            self.weights = _weights(self.drop, self.span)
        hours = sum(self.span)
        self.prior = sum(self.drop) / hours if hours >= 6 else None
        self._profile = None

    def start_run(self, at: datetime, settings: Settings) -> None:
        """A refill: a new run starts now and the profile takes in what was learned."""
        self._learn(settings)
        self.run_start = hours_of(at)
        self.n, self.sx, self.sy, self.sxx, self.sxy, self.syy = 0, 0.0, 0.0, 0.0, 0.0, 0.0
        self.same, self.same_since, self.same_visits = 0, None, None
        self.last_level = None

    def observe(
        self, at: datetime, level: float, settings: Settings, visits: int | None = None
    ) -> bool:
        """Take one reading (in time order); True if it started a new run (a refill)."""
        h = hours_of(at)
        if self.last_at is not None and h <= self.last_at:
            return False
        refilled = False
        if self.last_level is not None and level - self.last_level >= self._jump(settings):
            self.start_run(at, settings)
            refilled = True
        elif self.run_start is None:
            self.start_run(at, settings)
        if self.last_level is not None and self.last_at is not None:
            gap = h - self.last_at
            if gap <= MAX_GAP_H:
                k = int((self.last_at + gap / 2) % WEEK)
                self.drop[k] += self.last_level - level
                self.span[k] += gap
        self._note_repeat(h, level, visits)
        assert self.run_start is not None
        x = self.profile.clock(h) - self.profile.clock(self.run_start)
        self.n += 1
        self.sx += x
        self.sy += level
        self.sxx += x * x
        self.sxy += x * level
        self.syy += level * level
        self.last_at, self.last_level = h, level
        if visits is not None:
            self.visits = visits
        return refilled

    def _jump(self, settings: Settings) -> float:
        """The rise that counts as a refill: above the run's own scatter, not just a number."""
        if self.n < 5:
            return settings.jump
        fit = _fit(self)
        return settings.jump if fit is None else max(settings.jump, 4 * fit[2])

    def _note_repeat(self, h: float, level: float, visits: int | None) -> None:
        if self.last_level is not None and level == self.last_level:
            if self.same == 0:
                self.same_since = self.last_at
                self.same_visits = self.visits
            self.same += 1
        else:
            self.same, self.same_since, self.same_visits = 0, None, None

    def forecast(self, now: datetime, settings: Settings) -> Forecast:
        """What the track says at `now`."""
        return _forecast(self, hours_of(now), settings)


@dataclass(frozen=True)
class Forecast:
    """A level's outlook: its estimate now, the use rate, when it runs out and how sure."""

    outlook: Outlook
    level: float | None
    rate_per_hour: float | None
    runs_out_at: datetime | None
    earliest: datetime | None
    latest: datetime | None
    confidence: float
    since: datetime | None
    readings: int

    def line(self, now: datetime, step: timedelta) -> list[tuple[datetime, float]]:
        """The projected level from now to the run-out, every `step` (a straight guide)."""
        if self.runs_out_at is None or self.level is None or self.runs_out_at <= now:
            return []
        total = (self.runs_out_at - now) / step
        points, k = [], 0
        while k <= total and k < 500:
            at = now + k * step
            points.append((at, max(0.0, self.level * (1 - k / total))))
            k += 1
        points.append((self.runs_out_at, 0.0))
        return points


def normalise(weights: list[float]) -> list[float]:
    """Weights with none below the floor and a mean of 1."""
    raw = [max(w, FLOOR_WEIGHT) for w in weights]
    mean = sum(raw) / WEEK
    return [round(w / mean, 4) for w in raw]


def _weights(drop: list[float], span: list[float]) -> list[float]:
    """Relative use per hour of the week; thin hours borrow their hour of day, then the mean."""
    total_span = sum(span)
    if total_span <= 0 or sum(drop) <= 0:
        return [1.0] * WEEK
    mean = sum(drop) / total_span
    by_hour = []
    for hour in range(24):
        d = sum(drop[hour::24])
        s = sum(span[hour::24])
        by_hour.append(d / s if s >= 0.5 else mean)
    return normalise(
        [
            max((drop[k] / span[k]) if span[k] >= 0.5 else by_hour[k % 24], 0.0) / mean
            for k in range(WEEK)
        ]
    )


def _blank(outlook: Outlook, track: Track, level: float | None) -> Forecast:
    since = at_hours(track.run_start) if track.run_start is not None else None
    return Forecast(outlook, level, None, None, None, None, 0.0, since, track.n)


def _fit(track: Track) -> tuple[float, float, float, float] | None:
    """Slope, its standard error, the residual spread and the mean x; None if degenerate."""
    n = track.n
    sxx_c = track.sxx - track.sx * track.sx / n
    if sxx_c <= 1e-9:
        return None
    sxy_c = track.sxy - track.sx * track.sy / n
    syy_c = track.syy - track.sy * track.sy / n
    slope = sxy_c / sxx_c
    resid = max(syy_c - slope * sxy_c, 0.0) / max(n - 2, 1)
    return slope, math.sqrt(resid / sxx_c), math.sqrt(resid), track.sx / n


def _forecast(track: Track, now: float, settings: Settings) -> Forecast:
    if track.last_at is None or track.run_start is None:
        return _blank(Outlook.learning, track, None)
    if now - track.last_at > settings.silent_after.total_seconds() / 3600:
        return _blank(Outlook.silent, track, track.last_level)
    prior = track.prior
    if _stuck(track, prior, settings):
        return _blank(Outlook.stuck, track, track.last_level)
    if track.last_level is not None and track.last_level <= settings.floor + 0.5:
        return _blank(Outlook.empty, track, track.last_level)
    if track.n < settings.min_readings:
        return _blank(Outlook.learning, track, track.last_level)
    fit = _fit(track)
    if fit is None:
        return _blank(Outlook.learning, track, track.last_level)
    slope, se, sd, x_mean = fit
    rate, rate_se = -slope, se
    if prior is not None and prior > 0:
        # Blend with the earlier runs' rate: precision-weighted, the prior spread half its value.
        w_run = 1 / max(se * se, 1e-12)
        w_prior = 1 / (0.5 * prior) ** 2
        rate = (rate * w_run + prior * w_prior) / (w_run + w_prior)
        rate_se = math.sqrt(1 / (w_run + w_prior))
    profile = track.profile
    origin = profile.clock(track.run_start)
    x_now = profile.clock(now) - origin
    level = track.sy / track.n + slope_of(rate) * (x_now - x_mean)
    level = min(max(level, settings.floor), 100.0)
    if rate * 24 < MIN_DAILY_USE or rate - 2 * rate_se <= 0 or level / rate > HORIZON_H:
        outlook = Outlook.noisy if sd > settings.noisy_sd else Outlook.flat
        return _blank(outlook, track, round(level, 2))
    level_se = sd / math.sqrt(track.n)
    left = level - settings.floor
    u_now = x_now + origin

    def out(units_left: float, r: float) -> datetime:
        return at_hours(profile.hours(u_now + max(units_left, 0.0) / r))

    runs_out = out(left, rate)
    earliest = out(left - 2 * level_se, rate + 2 * rate_se)
    latest = out(left + 2 * level_se, max(rate - 2 * rate_se, rate / 10))
    confidence = max(0.0, 1 - 2 * rate_se / rate) * min(1.0, track.n / 12)
    weight_now = profile.weights[int(now % WEEK)]
    return Forecast(
        Outlook.falling,
        round(level, 2),
        round(rate * weight_now, 4),
        runs_out,
        earliest,
        latest,
        round(confidence, 3),
        at_hours(track.run_start),
        track.n,
    )


def slope_of(rate: float) -> float:
    """The level's slope on the use clock for a use rate (use makes the level fall)."""
    return -rate


def _stuck(track: Track, prior: float | None, settings: Settings) -> bool:
    """One value repeated while the place is used: visits went on, or use was expected."""
    if track.same < settings.stuck_count or track.same_since is None or track.last_at is None:
        return False
    if track.visits is not None and track.same_visits is not None:
        return track.visits - track.same_visits >= settings.stuck_count
    if prior is None or prior <= 0:
        return False
    expected = prior * (track.profile.clock(track.last_at) - track.profile.clock(track.same_since))
    return expected >= settings.stuck_drop
