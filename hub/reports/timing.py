"""The SLA report: per department × priority × step, met and breached, durations, escalations.

A deadline counts in the window it started in. A step's duration runs from the deadline's
start to the moment it was met, less the time the order spent on hold in between (a hold
pauses the clock, so it is not the department's time). Durations are computed by the
database for every met deadline; only orders that were ever on hold are read one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, distinct, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hub.reports.tables import Chart, ChartKind, Column, Kind, Layout, Report, percentile, share
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


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, computed by the database."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)


def _scope(site_id: str, since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    return [
        WorkOrder.site_id == site_id,
        Deadline.started_at >= since,
        Deadline.started_at < until,
    ]


def _counts(session: Session, scope: Sequence[ColumnElement[bool]]) -> dict[Group, dict[str, int]]:
    met = and_(Deadline.met_at.is_not(None), Deadline.breached_at.is_(None))
    rows = session.execute(
        select(
            WorkOrder.department,
            WorkOrder.priority,
            Deadline.step,
            func.count(),
            func.sum(case((met, 1), else_=0)),
            func.sum(case((Deadline.breached_at.is_not(None), 1), else_=0)),
            func.count(distinct(case((WorkOrder.escalation_level > 0, WorkOrder.id)))),
        )
        .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
        .where(*scope)
        .group_by(WorkOrder.department, WorkOrder.priority, Deadline.step)
    ).all()
    return {
        (d, p, s): {
            "deadlines": int(n),
            "met": int(m or 0),
            "breached": int(b or 0),
            "pending": int(n) - int(m or 0) - int(b or 0),
            "escalated_orders": int(e or 0),
        }
        for d, p, s, n, m, b, e in rows
    }


def _holds(
    session: Session, order_ids: Sequence[int]
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each order's hold intervals, from its history (an ongoing hold runs to the far future)."""
    events = session.execute(
        select(WorkOrderEvent.work_order_id, WorkOrderEvent.at, WorkOrderEvent.to_status)
        .where(
            WorkOrderEvent.work_order_id.in_(order_ids),
            or_(
                WorkOrderEvent.to_status == OrderStatus.on_hold,
                WorkOrderEvent.from_status == OrderStatus.on_hold,
            ),
        )
        .order_by(WorkOrderEvent.work_order_id, WorkOrderEvent.at, WorkOrderEvent.id)
    ).all()
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    started: dict[int, datetime] = {}
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


def _durations(session: Session, scope: Sequence[ColumnElement[bool]]) -> dict[Group, list[float]]:
    """Minutes each met deadline took, per group, with hold time taken out."""
    dialect = session.get_bind().dialect.name
    seconds = _seconds(dialect, Deadline.met_at, Deadline.started_at)
    held = WorkOrder.hold_total_s > 0
    out: dict[Group, list[float]] = defaultdict(list)
    for d, p, s, secs in session.execute(
        select(WorkOrder.department, WorkOrder.priority, Deadline.step, seconds)
        .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
        .where(*scope, Deadline.met_at.is_not(None), ~held, WorkOrder.hold_started_at.is_(None))
    ):
        out[(d, p, s)].append(round(float(secs)) / 60)  # julianday is exact to ~1 ms only
    rows = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.department,
            WorkOrder.priority,
            Deadline.step,
            Deadline.started_at,
            Deadline.met_at,
        )
        .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
        .where(
            *scope,
            Deadline.met_at.is_not(None),
            or_(held, WorkOrder.hold_started_at.is_not(None)),
        )
    ).all()
    spans = _holds(session, sorted({r[0] for r in rows})) if rows else {}
    for order_id, d, p, s, start, met in rows:
        assert met is not None  # selected so
        took = (met - start).total_seconds() - _overlap(spans.get(order_id, []), start, met)
        out[(d, p, s)].append(max(0.0, took) / 60)
    return out


def _minutes(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def sla(
    *, session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """Per department × priority × step of the orders' deadlines started in the window."""
    scope = _scope(site_id, since, until)
    counts = _counts(session, scope)
    durations = _durations(session, scope)
    rows: list[dict[str, Any]] = []
    for group in sorted(counts):
        tally, took = counts[group], durations.get(group, [])
        rows.append(
            {
                "department": group[0],
                "priority": group[1],
                "step": group[2],
                **{k: tally[k] for k in ("deadlines", "met", "breached", "pending")},
                "met_rate": share(tally["met"], tally["met"] + tally["breached"]),
                "median_minutes": _minutes(percentile(took, 50)),
                "p90_minutes": _minutes(percentile(took, 90)),
                "escalated_orders": tally["escalated_orders"],
            }
        )
    everything = [m for took in durations.values() for m in took]
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
