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


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def spoken(at: datetime, zone: tzinfo, *, now: datetime, lang: str, seconds: bool = False) -> str:
    """`at` as people say it in `lang`: 今天 14:05 / 昨天 09:30 / 12月8日 14:05 / 2025年…;
    today 14:05 / yesterday 09:30 / Dec 8 14:05 / Dec 8 2025 14:05. Local, no offset."""
    local = at.astimezone(zone)
    today = now.astimezone(zone).date()
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    days = (today - local.date()).days
    zh = lang == "zh"
    if days == 0:
        day = "今天" if zh else "today"
    elif days == 1:
        day = "昨天" if zh else "yesterday"
    elif days == -1:
        day = "明天" if zh else "tomorrow"
    elif local.year == today.year:
        day = f"{local.month}月{local.day}日" if zh else f"{MONTHS_EN[local.month - 1]} {local.day}"
    else:
        day = (
            f"{local.year}年{local.month}月{local.day}日"
            if zh
            else f"{MONTHS_EN[local.month - 1]} {local.day} {local.year}"
        )
    return f"{day} {clock}"


def duration(seconds: float, lang: str) -> str:
    """A span as people say it: 2天3小时 / 5小时12分钟 / 47分钟 / 不到1分钟;
    2 d 3 h / 5 h 12 min / 47 min / under 1 min. Never minutes:seconds."""
    total = int(abs(seconds)) // 60
    d, rest = divmod(total, 24 * 60)
    h, m = divmod(rest, 60)
    zh = lang == "zh"
    if d:
        parts = [(d, "天", " d"), (h, "小时", " h")]
    elif h:
        parts = [(h, "小时", " h"), (m, "分钟", " min")]
    elif m:
        parts = [(m, "分钟", " min")]
    else:
        return "不到1分钟" if zh else "under 1 min"
    shown_parts = [f"{n}{zh_unit if zh else en_unit}" for n, zh_unit, en_unit in parts if n]
    return ("" if zh else " ").join(shown_parts)


def said_at(at: datetime, zone: tzinfo, lang: str) -> str:
    """`at` as a reply to an owner says it, which is read later than it is written: the
    local day and time without relative words or offset: 12月8日 14:05 / Dec 8, 14:05."""
    local = at.astimezone(zone)
    if lang == "zh":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{MONTHS_EN[local.month - 1]} {local.day}, {local:%H:%M}"
