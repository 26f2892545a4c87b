"""Report windows in local time: the last full week, half month and month, and the period a
calendar job is due for.

Boundaries are local midnights (Monday for weeks, the 1st and the 16th for half months, the
1st for months), turned into UTC instants, so a week in Asia/Shanghai starts at Sunday 16:00
UTC. Local midnight exists in every zone the hub runs in (no DST gap at 00:00 there).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from hub.reports.enums import Cadence


def _midnight(day: datetime, zone: tzinfo) -> datetime:
    return datetime.combine(day.date(), time(), tzinfo=zone).astimezone(UTC)


def boundary(cadence: Cadence, now: datetime, zone: tzinfo) -> datetime:
    """The latest start of a `cadence` period at or before `now`, as a UTC instant."""
    local = now.astimezone(zone)
    if cadence == Cadence.weekly:
        return _midnight(local - timedelta(days=local.weekday()), zone)
    if cadence == Cadence.half_monthly:
        return _midnight(local.replace(day=16 if local.day >= 16 else 1), zone)
    return _midnight(local.replace(day=1), zone)


def previous(cadence: Cadence, start: datetime, zone: tzinfo) -> datetime:
    """The start of the period before the one starting at `start`."""
    return boundary(cadence, start - timedelta(seconds=1), zone)


def last_full(cadence: Cadence, now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The last complete `cadence` period before `now`: (since, until)."""
    until = boundary(cadence, now, zone)
    return previous(cadence, until, zone), until


def interval_start(now: datetime, seconds: int) -> datetime:
    """The start of the `seconds`-long slot `now` falls in (slots counted from the epoch)."""
    stamp = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(stamp, UTC)
