"""The complaint figures: the weekly hot items (热点投诉) and the monthly archive by category.

Both compare the window with the one just before it, of the same length. A complaint counts
towards every hot item it belongs to (`hub.complaints.answers.items_of`): its category, its
cause, its building and floor, each device kind it names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from hub.complaints import answers
from hub.complaints.enums import HotDimension
from hub.complaints.enums import Step as ComplaintStep
from hub.complaints.models import Complaint, ComplaintDeadline
from hub.registry.models import Location
from hub.reports.tables import Chart, ChartKind, Column, Kind, Layout, Report, share

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
        Column("dimension", "维度", "Dimension", width=12),
        Column("value", "热点", "Item", width=28),
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
        Column("category", "类别", "Category", width=20),
        Column("cause", "原因", "Cause", width=26),
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
        Column("category", "类别", "Category", width=20),
        Column("due", "应回访", "Due", Kind.int, 10),
        Column("within_2h", "2小时内", "Within 2 h", Kind.int, 10),
        Column("late", "超时", "Late", Kind.int, 8),
        Column("missing", "未回访", "Not done", Kind.int, 10),
        Column("rate", "及时率", "On-time rate", Kind.percent, 12),
    ),
    Chart(ChartKind.bar, "category", ("within_2h", "late", "missing"), "回访及时率", "Callbacks"),
)


@dataclass(frozen=True)
class Case:
    """What the statistics need of one complaint."""

    received_at: datetime
    kind: str
    category: str
    cause: str
    items: tuple[answers.HotItem, ...]


def _cases(session: Session, site_id: str, since: datetime, until: datetime) -> list[Case]:
    place, unit = aliased(Location), aliased(Location)
    rows = session.execute(
        select(
            Complaint.received_at,
            Complaint.kind,
            Complaint.category,
            Complaint.responsibility,
            Complaint.party,
            Complaint.device_kinds,
            place.path,
            unit.path,
        )
        .outerjoin(place, place.id == Complaint.location_id)
        .outerjoin(unit, unit.id == Complaint.unit_id)
        .where(
            Complaint.site_id == site_id,
            Complaint.received_at >= since,
            Complaint.received_at < until,
        )
    ).all()
    return [
        Case(
            received_at=at,
            kind=kind,
            category=category,
            cause=answers.cause_of(resp, party),
            items=tuple(
                answers.items_of(
                    category=category,
                    responsibility=resp,
                    party=party,
                    path=where or home,
                    device_kinds=kinds or [],
                )
            ),
        )
        for at, kind, category, resp, party, kinds, where, home in rows
    ]


def _split(cases: Iterable[Case], since: datetime) -> tuple[list[Case], list[Case]]:
    within: list[Case] = []
    before: list[Case] = []
    for case in cases:
        (within if case.received_at >= since else before).append(case)
    return within, before


def weekly_hot(
    *, session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """The window's complaints ranked per dimension, against the window before, with answers."""
    cases, before = _split(_cases(session, site_id, since - (until - since), until), since)
    counts = Counter(item for c in cases for item in c.items)
    earlier = Counter(item for c in before for item in c.items)
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
                    "share": share(n, len(cases)),
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
            "complaints": len(cases),
            "previous": len(before),
            "change": len(cases) - len(before),
            "hot_items": len(rows),
            "answered": sum(1 for r in rows if r["answer"] is not None),
        },
        sections={"hot": rows},
    )


def _by_category(cases: list[Case], before: list[Case]) -> list[dict[str, Any]]:
    counts = Counter((c.category, c.cause) for c in cases)
    earlier = Counter((c.category, c.cause) for c in before)
    keys = sorted(set(counts) | set(earlier), key=lambda k: (-counts.get(k, 0), k))
    return [
        {
            "category": category,
            "cause": cause,
            "count": counts.get((category, cause), 0),
            "previous": earlier.get((category, cause), 0),
            "change": counts.get((category, cause), 0) - earlier.get((category, cause), 0),
            "share": share(counts.get((category, cause), 0), len(cases)),
        }
        for category, cause in keys
    ]


def _trend(cases: list[Case], zone: tzinfo) -> list[dict[str, Any]]:
    days: dict[str, Counter[str]] = {}
    for case in cases:
        day = case.received_at.astimezone(zone).date().isoformat()
        days.setdefault(day, Counter())[case.kind] += 1
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
    rows = session.execute(
        select(
            Complaint.category,
            ComplaintDeadline.started_at,
            ComplaintDeadline.met_at,
        )
        .join(Complaint, Complaint.id == ComplaintDeadline.complaint_id)
        .where(
            Complaint.site_id == site_id,
            ComplaintDeadline.step == ComplaintStep.callback,
            ComplaintDeadline.started_at >= since,
            ComplaintDeadline.started_at < until,
        )
    ).all()
    per: dict[str, Counter[str]] = {}
    for category, started, met in rows:
        tally = per.setdefault(category, Counter())
        tally["due"] += 1
        if met is not None and met - started <= CALLBACK_LIMIT:
            tally["within_2h"] += 1
        elif met is not None or now - started > CALLBACK_LIMIT:
            tally["late" if met is not None else "missing"] += 1
    return [
        {
            "category": category,
            "due": t["due"],
            "within_2h": t["within_2h"],
            "late": t["late"],
            "missing": t["missing"],
            "rate": share(t["within_2h"], t["due"]),
        }
        for category, t in sorted(per.items())
    ]


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
    cases, before = _split(_cases(session, site_id, since - (until - since), until), since)
    callbacks = _callbacks(session, site_id, since, until, now)
    due = sum(r["due"] for r in callbacks)
    within = sum(r["within_2h"] for r in callbacks)
    return Report(
        name="monthly",
        site=site_id,
        since=since,
        until=until,
        generated_at=now,
        totals={
            "complaints": len(cases),
            "previous": len(before),
            "change": len(cases) - len(before),
            "callbacks_due": due,
            "callbacks_within_2h": within,
            "callback_rate": share(within, due),
            "callback_rule_met": within == due,
        },
        sections={
            "categories": _by_category(cases, before),
            "trend": _trend(cases, zone),
            "callbacks": callbacks,
        },
    )
