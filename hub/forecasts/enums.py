"""Vocabulary of forecasts: the quantities forecast and what a forecast could say."""

from __future__ import annotations

from enum import StrEnum


class Quantity(StrEnum):
    """A level that runs out: a dispenser's fill level or a battery's charge."""

    paper_pct = "paper_pct"
    soap_pct = "soap_pct"
    towel_pct = "towel_pct"
    battery = "battery"


SUPPLIES = (Quantity.paper_pct, Quantity.soap_pct, Quantity.towel_pct)


class Outlook(StrEnum):
    """What a forecast says: a run-out time, or why it gives none."""

    falling = "falling"
    """The level falls steadily: `runs_out_at` is given."""
    flat = "flat"
    """The level does not fall (an unused dispenser, a battery that holds)."""
    noisy = "noisy"
    """The readings scatter too much for a trend."""
    stuck = "stuck"
    """The sensor repeats one value while the place is in use (visits go on)."""
    silent = "silent"
    """No reading for too long: an availability problem, not a supplies one."""
    learning = "learning"
    """Too few readings since the last refill."""
    empty = "empty"
    """Already at zero."""


FORECAST_ALARMS = {"supplies_forecast", "battery_forecast"}
"""The alarm types raised from forecasts rather than from a reading."""
