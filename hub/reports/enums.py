"""Vocabulary of the reports: their names, the formats, the languages, the cadences."""

from __future__ import annotations

from enum import StrEnum


class ReportName(StrEnum):
    """The reports the hub produces (CONTRACT.md §4, DOMAIN.md "Periodic duties")."""

    weekly_hot = "weekly-hot"
    unfinished = "unfinished"
    sla = "sla"
    proactive = "proactive"
    monthly = "monthly"


class Format(StrEnum):
    """How a report is delivered."""

    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class Lang(StrEnum):
    """The language of headers and sheet names (times are local either way)."""

    zh = "zh"
    en = "en"


class Cadence(StrEnum):
    """How often a calendar job runs, counted in local time."""

    weekly = "weekly"
    """Monday 00:00 local: the week before."""
    half_monthly = "half_monthly"
    """The 1st and the 16th at 00:00 local: the half month before."""
    monthly = "monthly"
    """The 1st at 00:00 local: the month before."""


class RunTrigger(StrEnum):
    """Who asked for a stored run."""

    schedule = "schedule"
    manual = "manual"
