"""Vocabulary of alarms: how bad an alarm is, what raising did, the states the API filters by."""

from __future__ import annotations

from enum import StrEnum


class AlarmSeverity(StrEnum):
    """How bad an alarm is."""

    info = "info"
    warning = "warning"
    major = "major"
    critical = "critical"


class Outcome(StrEnum):
    """What raising did."""

    new = "new"
    repeat = "repeat"
    reopened = "reopened"


class AlarmStatus(StrEnum):
    """Alarm states as the API filters them; `open` is active or acknowledged."""

    active = "active"
    acked = "acked"
    cleared = "cleared"
    open = "open"
    all = "all"
