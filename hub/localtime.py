"""Local time for people: inside, every time is UTC; what a person reads is local.

Titles, history notes, reports, pages and the command line show times in the hub's zone
(`FH_TIMEZONE`) with their offset, so "14:02 +08:00" is never mistaken for UTC.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. Asia/Shanghai), or ValueError saying so."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)"
        ) from exc


def shown(at: datetime, zone: tzinfo) -> str:
    """`at` as a person reads it: local date and time to the second, with the offset."""
    local = at.astimezone(zone)
    return local.isoformat(sep=" ", timespec="seconds")
