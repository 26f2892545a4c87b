"""The complaint figures: the weekly hot items (热点投诉) and the monthly archive by category.

Both compare the window with the one just before it, of the same length. A complaint counts
towards every hot item it belongs to (`hub.complaints.answers.items_of`): its category, its
cause, its building and floor, each device kind it names.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hub.complaints import answers
from hub.complaints.enums import HotDimension
from hub.complaints.enums import Step as ComplaintStep
from hub.complaints.models import Complaint, ComplaintDeadline
from hub.registry.models import Location
from hub.reports.tables import (
    Chart,
    ChartKind,
    Column,
    Kind,
    Layout,
    Report,
    seconds_between,
    share,
)

TOP = 10
"""Hot items listed per dimension."""
CALLBACK_LIMIT = timedelta(hours=2)
"""The callback visit (回访) is due within 2 hours of completion, in 100 % of cases."""

HOT = Layout(
    "hot",
    "热点投诉",
    "Hot items",
    (
        Column("rank", "排名", "Rank", Kind.int, 6),
        Column("dimension", "维度", "Dimension", width=12, codes="dimension"),
        Column("value", "热点", "Item", width=28, codes="hot"),
        Column("count", "本期", "This period", Kind.int, 10),
        Column("previous", "上期", "Previous", Kind.int, 10),
        Column("change", "增减", "Change", Kind.int, 8),
        Column("change_pct", "增减率", "Change %", Kind.percent, 10),
        Column("share", "占比", "Share", Kind.percent, 8),
        Column("answer", "统一答复", "Unified answer", width=48),
        Column("answer_version", "答复版本", "Answer version", Kind.int, 10),
    ),
    Chart(
        ChartKind.bar,
        "value",
        ("count", "previous"),
        "热点投诉 本期与上期",
        "Hot items vs previous",
    ),
)
CATEGORIES = Layout(
    "categories",
    "分类统计",
    "By category",
    (
        Column("category", "类别", "Category", width=20, codes="category"),
        Column("cause", "原因", "Cause", width=26, codes="cause"),
        Column("count", "本期", "This period", Kind.int, 10),
        Column("previous", "上期", "Previous", Kind.int, 10),
        Column("change", "增减", "Change", Kind.int, 8),
        Column("share", "占比", "Share", Kind.percent, 8),
    ),
    Chart(ChartKind.bar, "category", ("count", "previous"), "分类统计", "Complaints by category"),
)
TREND = Layout(
    "trend",
    "趋势",
    "Trend",
    (
        Column("day", "日期", "Day", width=12),
        Column("count", "件数", "Contacts", Kind.int, 10),
        Column("complaints", "投诉", "Complaints", Kind.int, 10),
        Column("repairs", "报修", "Repairs", Kind.int, 10),
    ),
    Chart(ChartKind.line, "day", ("count", "complaints", "repairs"), "每日趋势", "Daily trend"),
)
CALLBACKS = Layout(
    "callbacks",
    "回访",
    "Callbacks",
    (
        Column("category", "类别", "Category", width=20, codes="category"),
        Column("due", "应回访", "Due", Kind.int, 10),
        Column("within_2h", "2小时内", "Within 2 h", Kind.int, 10),
        Column("late", "超时", "Late", Kind.int, 8),
        Column("missing", "未回访", "Not done", Kind.int, 10),
        Column("rate", "及时率", "On-time rate", Kind.percent, 12),
        Column("scored", "评分数", "Scored", Kind.int, 10),
        Column("satisfaction", "满意度(1-5)", "Satisfaction (1-5)", Kind.float, 14),
    ),
    Chart(ChartKind.bar, "category", ("within_2h", "late", "missing"), "回访及时率", "Callbacks"),
)


@dataclass(frozen=True)
class Group:
    """Complaints that share every fact the statistics read, and how many they are."""

    count: int
    category: str
    cause: str
    items: tuple[answers.HotItem, ...]


def _groups(session: Session, site_id: str, since: datetime, until: datetime) -> list[Group]:
    """The window's complaints grouped by what the statistics read: the database counts."""
    kinds = cast(Complaint.device_kinds, Text)
    columns = (
        Complaint.category,
        Complaint.responsibility,
        Complaint.party,
        kinds,
        Complaint.location_id,
        Complaint.unit_id,
    )
    rows = session.execute(
        select(*columns, func.count())
        .where(
            Complaint.site_id == site_id,
            Complaint.received_at >= since,
            Complaint.received_at < until,
        )
        .group_by(*columns)
    ).all()
    places = _paths(session, {i for r in rows if (i := r[4] or r[5]) is not None})
    parsed: dict[str, list[str]] = {}
    groups = []
    for category, resp, party, text, location_id, unit_id, n in rows:
        device_kinds = parsed.get(text or "")
        if device_kinds is None:
            device_kinds = parsed[text or ""] = json.loads(text) if text else []
        items = answers.items_of(
            category=category,
            responsibility=resp,
            party=party,
            path=places.get(location_id or unit_id or 0),
            device_kinds=device_kinds,
        )
        groups.append(Group(int(n), category, answers.cause_of(resp, party), tuple(items)))
    return groups


def _paths(session: Session, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 5_000):
        for node_id, path in session.execute(
            select(Location.id, Location.path).where(
                Location.id.in_(ordered[start : start + 5_000])
            )
        ):
            found[node_id] = path
    return found


def _tally(groups: Iterable[Group]) -> Counter[answers.HotItem]:
    counts: Counter[answers.HotItem] = Counter()
    for group in groups:
        for item in group.items:
            counts[item] += group.count
    return counts


def _windows(
    session: Session, site_id: str, since: datetime, until: datetime
) -> tuple[list[Group], list[Group]]:
    """The window's groups and those of the window of the same length just before it."""
    return (
        _groups(session, site_id, since, until),
        _groups(session, site_id, since - (until - since), since),
    )


def weekly_hot(
    *, session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """The window's complaints ranked per dimension, against the window before, with answers."""
    cases, before = _windows(session, site_id, since, until)
    counts, earlier = _tally(cases), _tally(before)
    total, previous = sum(g.count for g in cases), sum(g.count for g in before)
    agreed = answers.current(session=session, site_ids=[site_id])
    rows: list[dict[str, Any]] = []
    for dimension in HotDimension:
        ranked = sorted(
            ((item, n) for item, n in counts.items() if item[0] == dimension),
            key=lambda pair: (-pair[1], pair[0][1]),
        )[:TOP]
        for rank, (item, n) in enumerate(ranked, 1):
            answer = agreed.get((site_id, item))
            last = earlier.get(item, 0)
            rows.append(
                {
                    "rank": rank,
                    "dimension": str(dimension),
                    "value": item[1],
                    "count": n,
                    "previous": last,
                    "change": n - last,
                    "change_pct": round((n - last) / last, 3) if last else None,
                    "share": share(n, total),
                    "answer": answer.text if answer else None,
                    "answer_version": answer.version if answer else None,
                }
            )
    return Report(
        name="weekly-hot",
        site=site_id,
        since=since,
        until=until,
        generated_at=now,
        totals={
            "complaints": total,
            "previous": previous,
            "change": total - previous,
            "hot_items": len(rows),
            "answered": sum(1 for r in rows if r["answer"] is not None),
        },
        sections={"hot": rows},
    )


def _by_category(cases: list[Group], before: list[Group]) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str]] = Counter()
    earlier: Counter[tuple[str, str]] = Counter()
    for groups, tally in ((cases, counts), (before, earlier)):
        for g in groups:
            tally[(g.category, g.cause)] += g.count
    total = sum(counts.values())
    keys = sorted(set(counts) | set(earlier), key=lambda k: (-counts.get(k, 0), k))
    return [
        {
            "category": category,
            "cause": cause,
            "count": counts.get((category, cause), 0),
            "previous": earlier.get((category, cause), 0),
            "change": counts.get((category, cause), 0) - earlier.get((category, cause), 0),
            "share": share(counts.get((category, cause), 0), total),
        }
        for category, cause in keys
    ]


def fixed_offset(zone: tzinfo, since: datetime, until: datetime) -> timedelta | None:
    """The zone's UTC offset if it is the same all through the window (no DST change)."""
    offsets = set()
    day = since
    while day <= until:
        offsets.add(day.astimezone(zone).utcoffset())
        day += timedelta(days=1)
    offsets.add(until.astimezone(zone).utcoffset())
    (offset, *others) = offsets
    return offset if not others else None


def _local_day(dialect: str, offset: timedelta) -> ColumnElement[Any]:
    """The local date of `received_at` at a fixed offset, as 'YYYY-MM-DD' text (SQL literals
    only, so the same expression can be grouped by on PostgreSQL)."""
    minutes = int(offset.total_seconds() // 60)
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), Complaint.received_at)
        shifted = utc + literal_column(f"interval '{minutes} minutes'")
        return func.to_char(shifted, literal_column("'YYYY-MM-DD'"))
    return func.date(Complaint.received_at, literal_column(f"'{minutes:+d} minutes'"))


def _trend(
    session: Session, site_id: str, since: datetime, until: datetime, zone: tzinfo
) -> list[dict[str, Any]]:
    """Contacts per local day and kind; the database groups them when the offset is fixed."""
    scope = (
        Complaint.site_id == site_id,
        Complaint.received_at >= since,
        Complaint.received_at < until,
    )
    days: dict[str, Counter[str]] = {}
    offset = fixed_offset(zone, since, until)
    if offset is not None:
        day = _local_day(session.get_bind().dialect.name, offset)
        for local, kind, n in session.execute(
            select(day, Complaint.kind, func.count()).where(*scope).group_by(day, Complaint.kind)
        ):
            days.setdefault(str(local), Counter())[kind] += int(n)
    else:
        for at, kind in session.execute(
            select(Complaint.received_at, Complaint.kind).where(*scope)
        ):
            days.setdefault(at.astimezone(zone).date().isoformat(), Counter())[kind] += 1
    return [
        {
            "day": day,
            "count": sum(kinds.values()),
            "complaints": kinds.get("complaint", 0),
            "repairs": kinds.get("repair", 0),
        }
        for day, kinds in sorted(days.items())
    ]


def _callbacks(
    session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> list[dict[str, Any]]:
    """Per category, callbacks that fell due in the window: within 2 h, late, not done."""
    took = seconds_between(
        session.get_bind().dialect.name, ComplaintDeadline.met_at, ComplaintDeadline.started_at
    )
    limit = CALLBACK_LIMIT.total_seconds()
    done = ComplaintDeadline.met_at.is_not(None)
    rows = session.execute(
        select(
            Complaint.category,
            func.count(),
            func.sum(case((and_(done, took <= limit), 1), else_=0)),
            func.sum(case((and_(done, took > limit), 1), else_=0)),
            func.sum(
                case(
                    (and_(~done, ComplaintDeadline.started_at < now - CALLBACK_LIMIT), 1),
                    else_=0,
                )
            ),
        )
        .join(Complaint, Complaint.id == ComplaintDeadline.complaint_id)
        .where(
            Complaint.site_id == site_id,
            ComplaintDeadline.step == ComplaintStep.callback,
            ComplaintDeadline.started_at >= since,
            ComplaintDeadline.started_at < until,
        )
        .group_by(Complaint.category)
        .order_by(Complaint.category)
    ).all()
    return [
        {
            "category": category,
            "due": int(due),
            "within_2h": int(within or 0),
            "late": int(late or 0),
            "missing": int(missing or 0),
            "rate": share(int(within or 0), int(due)),
        }
        for category, due, within, late, missing in rows
    ]


def _satisfaction(
    session: Session, site_id: str, since: datetime, until: datetime
) -> dict[str, tuple[int, float]]:
    """Per category, the owners' scores (1-5) given at callbacks in the window: count, sum."""
    rows = session.execute(
        select(Complaint.category, func.count(), func.sum(Complaint.satisfaction))
        .where(
            Complaint.site_id == site_id,
            Complaint.satisfaction.is_not(None),
            Complaint.callback_at >= since,
            Complaint.callback_at < until,
        )
        .group_by(Complaint.category)
    ).all()
    return {str(category): (int(n), float(total or 0)) for category, n, total in rows}


def _mean(count: int, total: float) -> float | None:
    return round(total / count, 2) if count else None


def monthly(
    *,
    session: Session,
    site_id: str,
    since: datetime,
    until: datetime,
    now: datetime,
    zone: tzinfo,
) -> Report:
    """The archive and analysis: by category and cause, the daily trend, the 2-hour callbacks."""
    cases, before = _windows(session, site_id, since, until)
    total, previous = sum(g.count for g in cases), sum(g.count for g in before)
    callbacks = _callbacks(session, site_id, since, until, now)
    scores = _satisfaction(session, site_id, since, until)
    for row in callbacks:
        n, points = scores.get(row["category"], (0, 0.0))
        row["scored"], row["satisfaction"] = n, _mean(n, points)
    due = sum(r["due"] for r in callbacks)
    within = sum(r["within_2h"] for r in callbacks)
    scored = sum(n for n, _total in scores.values())
    return Report(
        name="monthly",
        site=site_id,
        since=since,
        until=until,
        generated_at=now,
        totals={
            "complaints": total,
            "previous": previous,
            "change": total - previous,
            "callbacks_due": due,
            "callbacks_within_2h": within,
            "callback_rate": share(within, due),
            "callback_rule_met": within == due,
            "satisfaction_scored": scored,
            "satisfaction_mean": _mean(scored, sum(t for _n, t in scores.values())),
        },
        sections={
            "categories": _by_category(cases, before),
            "trend": _trend(session, site_id, since, until, zone),
            "callbacks": callbacks,
        },
    )
