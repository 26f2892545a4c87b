"""The SLA report: per department × priority × step, met and breached, durations, escalations.

A deadline counts in the window it started in. A step's duration runs from the deadline's
start to the moment it was met, less the time the order spent on hold in between (a hold
pauses the clock, so it is not the department's time). Durations are computed by the
database for every met deadline; only orders that were ever on hold are read one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from hub.reports.tables import (
    Chart,
    ChartKind,
    Column,
    Kind,
    Layout,
    Report,
    percentile,
    seconds_between,
    share,
)
from hub.workorders.enums import Status as OrderStatus
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent

STEPS = Layout(
    "sla",
    "时限达成",
    "SLA",
    (
        Column("department", "部门", "Department", width=14),
        Column("priority", "优先级", "Priority", width=10),
        Column("step", "环节", "Step", width=10),
        Column("deadlines", "时限数", "Deadlines", Kind.int, 10),
        Column("met", "按时", "Met", Kind.int, 8),
        Column("breached", "超时", "Breached", Kind.int, 10),
        Column("pending", "进行中", "Pending", Kind.int, 10),
        Column("met_rate", "达成率", "Met rate", Kind.percent, 10),
        Column("median_minutes", "中位用时(分)", "Median (min)", Kind.float, 14),
        Column("p90_minutes", "P90用时(分)", "P90 (min)", Kind.float, 14),
        Column("escalated_orders", "升级工单", "Escalated orders", Kind.int, 14),
    ),
    Chart(ChartKind.bar, "step", ("met", "breached"), "时限达成", "Met and breached"),
)

Group = tuple[str, str, str]
CHUNK = 5_000
"""Ids per IN list: well under SQLite's bound variables."""


@dataclass
class Tally:
    """One group's deadlines: how they ended, how long the met ones took, who escalated."""

    deadlines: int = 0
    met: int = 0
    breached: int = 0
    minutes: list[float] = field(default_factory=list)
    escalated: set[int] = field(default_factory=set)

    def add(self, *, met: bool, breached: bool, order_id: int, escalated: bool) -> None:
        """Count one deadline."""
        self.deadlines += 1
        self.met += met and not breached
        self.breached += breached
        if escalated:
            self.escalated.add(order_id)


def _holds(
    session: Session, order_ids: Sequence[int]
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each order's hold intervals, from its history (an ongoing hold runs to the far future)."""
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    started: dict[int, datetime] = {}
    for start in range(0, len(order_ids), CHUNK):
        events = session.execute(
            select(WorkOrderEvent.work_order_id, WorkOrderEvent.at, WorkOrderEvent.to_status)
            .where(
                WorkOrderEvent.work_order_id.in_(order_ids[start : start + CHUNK]),
                or_(
                    WorkOrderEvent.to_status == OrderStatus.on_hold,
                    WorkOrderEvent.from_status == OrderStatus.on_hold,
                ),
            )
            .order_by(WorkOrderEvent.work_order_id, WorkOrderEvent.at, WorkOrderEvent.id)
        ).all()
        for order_id, at, to in events:
            if to == OrderStatus.on_hold:
                started[order_id] = at
            elif order_id in started:
                spans[order_id].append((started.pop(order_id), at))
    for order_id, at in started.items():
        spans[order_id].append((at, datetime.max.replace(tzinfo=at.tzinfo)))
    return spans


def _overlap(spans: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    return sum(max(0.0, (min(end, b) - max(start, a)).total_seconds()) for a, b in spans)


def _tallies(
    session: Session, site_id: str, since: datetime, until: datetime
) -> dict[Group, Tally]:
    """Every deadline started in the window, in one pass: the database computes the duration
    of the orders never held; the few held ones have their hold time taken out here."""
    dialect = session.get_bind().dialect.name
    held = or_(WorkOrder.hold_total_s > 0, WorkOrder.hold_started_at.is_not(None))
    took = seconds_between(dialect, Deadline.met_at, Deadline.started_at)
    scope = (
        WorkOrder.site_id == site_id,
        Deadline.started_at >= since,
        Deadline.started_at < until,
    )
    base = (
        WorkOrder.department,
        WorkOrder.priority,
        Deadline.step,
        WorkOrder.id,
        WorkOrder.escalation_level,
        Deadline.breached_at.is_not(None),
    )
    tallies: dict[Group, Tally] = defaultdict(Tally)
    connection = session.connection()
    plain = (
        select(*base, case((Deadline.met_at.is_not(None), took)))
        .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
        .where(*scope, ~held)
    )
    for d, p, s, order_id, level, breached, secs in connection.execute(plain):
        tally = tallies[(d, p, s)]
        tally.add(
            met=secs is not None, breached=bool(breached), order_id=order_id, escalated=level > 0
        )
        if secs is not None:
            tally.minutes.append(round(float(secs)) / 60)  # julianday is exact to ~1 ms only
    rows = session.execute(
        select(*base, Deadline.started_at, Deadline.met_at)
        .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
        .where(*scope, held)
    ).all()
    spans = _holds(session, sorted({r[3] for r in rows}))
    for d, p, s, order_id, level, breached, start, met in rows:
        tally = tallies[(d, p, s)]
        tally.add(
            met=met is not None, breached=bool(breached), order_id=order_id, escalated=level > 0
        )
        if met is not None:
            took_s = (met - start).total_seconds() - _overlap(spans.get(order_id, []), start, met)
            tally.minutes.append(max(0.0, took_s) / 60)
    return tallies


def _minutes(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def sla(
    *, session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """Per department × priority × step of the orders' deadlines started in the window."""
    tallies = _tallies(session, site_id, since, until)
    rows: list[dict[str, Any]] = []
    for group in sorted(tallies):
        t = tallies[group]
        rows.append(
            {
                "department": group[0],
                "priority": group[1],
                "step": group[2],
                "deadlines": t.deadlines,
                "met": t.met,
                "breached": t.breached,
                "pending": t.deadlines - t.met - t.breached,
                "met_rate": share(t.met, t.met + t.breached),
                "median_minutes": _minutes(percentile(t.minutes, 50)),
                "p90_minutes": _minutes(percentile(t.minutes, 90)),
                "escalated_orders": len(t.escalated),
            }
        )
    everything = [m for t in tallies.values() for m in t.minutes]
    met = sum(r["met"] for r in rows)
    breached = sum(r["breached"] for r in rows)
    return Report(
        name="sla",
        site=site_id,
        since=since,
        until=until,
        generated_at=now,
        totals={
            "deadlines": sum(r["deadlines"] for r in rows),
            "met": met,
            "breached": breached,
            "pending": sum(r["pending"] for r in rows),
            "met_rate": share(met, met + breached),
            "median_minutes": _minutes(percentile(everything, 50)),
            "p90_minutes": _minutes(percentile(everything, 90)),
        },
        sections={"sla": rows},
    )
