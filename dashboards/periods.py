"""The period the manager's reports show: the current one so far by default, or the one
picked (this week, last week, this month, a range of local dates).

Each report's own period is its cadence's (weekly, half-monthly, monthly); "current" is
that period from its start until now, so a report read on a Monday morning shows
Monday's figures, not zeros. The downloads carry the same window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dashboards.render import PageError
from hub.reports.enums import Cadence, ReportName
from hub.reports.flows import CATALOG
from hub.reports.periods import boundary, last_full

PERIODS = ("current", "this-week", "last-week", "this-month", "range")
LONGEST = timedelta(days=366)


@dataclass(frozen=True)
class Window:
    """A report's window on the page: since, until (UTC), and whether it runs until now."""

    since: datetime
    until: datetime
    so_far: bool

    def query(self) -> dict[str, str]:
        """The window as the API's (and the download's) query."""
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


def _day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError as exc:
        raise PageError(422, f"{field}: a date such as 2026-12-01") from exc


def _range(since: str | None, until: str | None, zone: tzinfo) -> Window:
    first, last = _day(since, "since"), _day(until, "until")
    if last < first:
        raise PageError(422, "until: on or after since")
    start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    if end - start > LONGEST:
        raise PageError(422, "since: a range of at most a year")
    return Window(start, end, False)


def window(
    name: str,
    period: str,
    *,
    now: datetime,
    zone: tzinfo,
    since: str | None = None,
    until: str | None = None,
) -> Window:
    """The window of report `name` for the picked `period`."""
    if period == "range":
        return _range(since, until, zone)
    if period == "this-week":
        return Window(boundary(Cadence.weekly, now, zone), now, True)
    if period == "last-week":
        return Window(*last_full(Cadence.weekly, now, zone), False)
    if period == "this-month":
        return Window(boundary(Cadence.monthly, now, zone), now, True)
    if period != "current":
        raise PageError(422, "period: " + ", ".join(PERIODS))
    cadence = CATALOG[ReportName(name)].window
    return Window(boundary(cadence, now, zone), now, True)


HEADLINES = {
    "weekly-hot": ("complaints", "previous"),
    "monthly": ("complaints", "previous"),
    "unfinished": ("items", "on_hold"),
    "sla": ("met", "deadlines"),
    "proactive": ("sensor_first", "issues"),
}
"""Each report's headline sentence (a catalog entry `headline:{name}`) and its two figures."""


def headline(name: str, figures: dict[str, Any], gettext: Callable[[str], str]) -> str:
    """A card's figures in words: "6 complaints so far, 0 in the period before"."""
    keys = HEADLINES.get(name)
    if keys is None or any(not isinstance(figures.get(k), int) for k in keys):
        return ""
    first, second = (figures[k] for k in keys)
    return gettext(f"headline:{name}") % {"a": first, "b": second}
