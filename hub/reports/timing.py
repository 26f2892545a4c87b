"""The SLA report: per department × priority × step, met and breached, durations, escalations.

A deadline counts in the window it started in. A step's duration runs from the deadline's
start to the moment it was met, less the time the order spent on hold in between (a hold
pauses the clock, so it is not the department's time). The database computes each
duration and the hold in it; PostgreSQL also takes the percentiles (`percentile_cont`),
on SQLite one pass over the deadlines is counted and ranked here.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Float, and_, case, cast, distinct, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from hub.db import UTCDateTime
from hub.reports.tables import (
    Chart,
    ChartKind,
    Column,
    Kind,
    Layout,
    Report,
    percentile,
    share,
)
from hub.workorders.enums import Status as OrderStatus
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent

STEPS = Layout(
    "sla",
    "时限达成",
    "SLA",
    (
        Column("department", "部门", "Department", width=14, codes="department"),
        Column("priority", "优先级", "Priority", width=10, codes="priority"),
        Column("step", "环节", "Step", width=10, codes="step"),
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


def _epoch(dialect: str, at: Any) -> ColumnElement[Any]:
    """Seconds since the epoch of a stored time, as the database computes it."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", at), Float)
    return cast(func.julianday(at) * 86400.0, Float)


def _pair(dialect: str, name: str, a: Any, b: Any) -> ColumnElement[Any]:
    """GREATEST / LEAST of two values (SQLite's scalar max and min)."""
    if dialect == "postgresql":
        return getattr(func, name)(a, b)  # type: ignore[no-any-return]
    return getattr(func, "max" if name == "greatest" else "min")(a, b)  # type: ignore[no-any-return]


def _held(session: Session, site_id: str, since: datetime, until: datetime, now: datetime) -> Any:
    """Per met deadline of a held order, the seconds of hold between its start and meeting.

    A hold is a `to on_hold` event and the first `from on_hold` after it (still running:
    until now).
    """
    dialect = session.get_bind().dialect.name
    sec = partial(_epoch, dialect)
    later = aliased(WorkOrderEvent)
    ended = (
        select(func.min(later.at))
        .where(
            later.work_order_id == WorkOrderEvent.work_order_id,
            later.from_status == OrderStatus.on_hold,
            later.at >= WorkOrderEvent.at,
        )
        .correlate(WorkOrderEvent)
        .scalar_subquery()
    )
    spans = (
        select(
            WorkOrderEvent.work_order_id.label("order_id"),
            WorkOrderEvent.at.label("start"),
            func.coalesce(ended, literal(now, UTCDateTime())).label("end"),
        )
        .join(WorkOrder, WorkOrder.id == WorkOrderEvent.work_order_id)
        .where(WorkOrder.site_id == site_id, WorkOrderEvent.to_status == OrderStatus.on_hold)
        .cte("spans")
    )
    overlap = _pair(
        dialect,
        "greatest",
        0.0,
        _pair(dialect, "least", sec(Deadline.met_at), sec(spans.c.end))
        - _pair(dialect, "greatest", sec(Deadline.started_at), sec(spans.c.start)),
    )
    return (
        select(Deadline.id.label("id"), func.sum(overlap).label("held"))
        .join(spans, spans.c.order_id == Deadline.work_order_id)
        .where(
            Deadline.started_at >= since,
            Deadline.started_at < until,
            Deadline.met_at.is_not(None),
        )
        .group_by(Deadline.id)
        .cte("held")
    )


def _took(dialect: str, held: Any) -> ColumnElement[Any]:
    """A met deadline's seconds from start to meeting, its hold taken out (else NULL).

    PostgreSQL subtracts the two times exactly (one interval); SQLite's julianday is exact
    to about a millisecond, so its seconds are rounded to whole ones.
    """
    if dialect == "postgresql":
        span: ColumnElement[Any] = cast(
            func.extract("epoch", Deadline.met_at - Deadline.started_at), Float
        )
    else:
        span = func.round(_epoch(dialect, Deadline.met_at) - _epoch(dialect, Deadline.started_at))
    took = span - func.coalesce(held.c.held, 0.0)
    return case((Deadline.met_at.is_not(None), _pair(dialect, "greatest", 0.0, took)))


PERCENTILES = (50, 90)


def _tallies(
    session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> dict[Group, dict[str, Any]]:
    """Per group the counts, the median and the p90 minutes.

    PostgreSQL does it all in one aggregate query (`percentile_cont`: the same linear
    interpolation as `percentile`); elsewhere one pass over the deadlines is counted here.
    """
    dialect = session.get_bind().dialect.name
    held = _held(session, site_id, since, until, now)
    took = _took(dialect, held)
    if dialect != "postgresql":
        return _one_pass(session, site_id, since, until, held, took)
    met = and_(Deadline.met_at.is_not(None), Deadline.breached_at.is_(None))
    escalated = case((WorkOrder.escalation_level > 0, WorkOrder.id))
    # The aggregates sort by the group; byte order is as good and much faster.
    group = tuple(
        column.collate("C") for column in (WorkOrder.department, WorkOrder.priority, Deadline.step)
    )
    rows = session.execute(
        select(
            *group,
            func.count(),
            func.sum(case((met, 1), else_=0)),
            func.sum(case((Deadline.breached_at.is_not(None), 1), else_=0)),
            func.count(distinct(escalated)),
            *(func.percentile_cont(pct / 100).within_group(took) for pct in PERCENTILES),
        )
        .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
        .outerjoin(held, held.c.id == Deadline.id)
        .where(
            WorkOrder.site_id == site_id,
            Deadline.started_at >= since,
            Deadline.started_at < until,
        )
        .group_by(*group)
    ).all()
    return {
        (d, p, s): {
            "deadlines": int(n),
            "met": int(m or 0),
            "breached": int(b or 0),
            "escalated_orders": int(e or 0),
            **{
                f"p{pct}": float(v) / 60 if v is not None else None
                for pct, v in zip(PERCENTILES, pcts, strict=True)
            },
        }
        for d, p, s, n, m, b, e, *pcts in rows
    }


def _one_pass(
    session: Session, site_id: str, since: datetime, until: datetime, held: Any, took: Any
) -> dict[Group, dict[str, Any]]:
    """Counts and percentiles from one pass over the window's deadlines (databases without
    ordered-set aggregates): the database computes each duration, holds taken out; the
    counting and the ranking happen here, which on SQLite beats a window's sort."""
    met = and_(Deadline.met_at.is_not(None), Deadline.breached_at.is_(None))
    rows = (
        session.connection()
        .execute(
            select(
                WorkOrder.department,
                WorkOrder.priority,
                Deadline.step,
                case((met, 1), else_=0),
                case((Deadline.breached_at.is_not(None), 1), else_=0),
                case((WorkOrder.escalation_level > 0, WorkOrder.id)),
                took,
            )
            .join(WorkOrder, WorkOrder.id == Deadline.work_order_id)
            .outerjoin(held, held.c.id == Deadline.id)
            .where(
                WorkOrder.site_id == site_id,
                Deadline.started_at >= since,
                Deadline.started_at < until,
            )
        )
        .all()
    )
    tallies: dict[Group, list[Any]] = {}
    for d, p, s, on_time, late, escalated, t in rows:
        tally = tallies.get((d, p, s))
        if tally is None:
            tally = tallies[(d, p, s)] = [0, 0, 0, set(), []]
        tally[0] += 1
        tally[1] += on_time
        tally[2] += late
        if escalated is not None:
            tally[3].add(escalated)
        if t is not None:
            tally[4].append(t / 60)
    groups: dict[Group, dict[str, Any]] = {}
    for key, (n, m, b, escalated_ids, minutes) in tallies.items():
        minutes.sort()
        groups[key] = {
            "deadlines": n,
            "met": m,
            "breached": b,
            "escalated_orders": len(escalated_ids),
            **{f"p{pct}": percentile(minutes, pct, ordered=True) for pct in PERCENTILES},
        }
    return groups


def _minutes(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def sla(
    *, session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """Per department × priority × step of the orders' deadlines started in the window."""
    groups = _tallies(session, site_id, since, until, now)
    rows: list[dict[str, Any]] = []
    for key in sorted(groups):
        g = groups[key]
        rows.append(
            {
                "department": key[0],
                "priority": key[1],
                "step": key[2],
                "deadlines": g["deadlines"],
                "met": g["met"],
                "breached": g["breached"],
                "pending": g["deadlines"] - g["met"] - g["breached"],
                "met_rate": share(g["met"], g["met"] + g["breached"]),
                "median_minutes": _minutes(g["p50"]),
                "p90_minutes": _minutes(g["p90"]),
                "escalated_orders": g["escalated_orders"],
            }
        )
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
        },
        sections={"sla": rows},
    )
