"""The unfinished list (未完成事项): open orders and complaints per department, lights first.

Sent to department heads every half month. An item is unfinished when it was registered
before the report's end and was not closed by then; its age, hold and SLA state are read at
the report's end (the scheduled run is made right then). Corridor and stair lights come
first: simple faults that hit owners directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.cases.deadlines import effective_due
from hub.complaints.enums import Status as ComplaintStatus
from hub.complaints.models import Complaint, ComplaintDeadline, ComplaintWorkOrder
from hub.parts import service as parts
from hub.registry.enums import DeviceKind
from hub.registry.models import Device, Location
from hub.reports.tables import Chart, ChartKind, Column, Kind, Layout, Report
from hub.workorders.enums import Department
from hub.workorders.enums import Status as OrderStatus
from hub.workorders.models import Deadline, WorkOrder

DUE_SOON = timedelta(hours=1)
CHUNK = 5_000
"""Ids per IN list: well under SQLite's bound variables."""

ITEMS = Layout(
    "items",
    "未完成事项",
    "Unfinished",
    (
        Column("department", "部门", "Department", width=14, codes="department"),
        Column("type", "类型", "Type", width=10, codes="record"),
        Column("id", "编号", "No.", Kind.int, 8),
        Column("light", "灯具", "Light", width=6),
        Column("title", "内容", "What", width=40),
        Column("location", "位置", "Where", width=20, codes="place"),
        Column("status", "状态", "Status", width=14, codes="status"),
        Column("priority", "优先级", "Priority", width=10, codes="priority"),
        Column("registered_at", "登记时间", "Registered", Kind.time, 18),
        Column("age_days", "已过天数", "Age (days)", Kind.float, 10),
        Column("hold_reason", "挂起原因", "Hold reason", width=30),
        Column("on_hold_since", "挂起时间", "On hold since", Kind.time, 18),
        Column("sla", "时限状态", "SLA", width=10, codes="sla"),
        Column("next_due", "下一时限", "Next due", Kind.time, 18),
        Column("escalation_level", "升级次数", "Escalations", Kind.int, 10),
    ),
    Chart(ChartKind.bar, "id", ("age_days",), "未完成事项 已过天数", "Age of unfinished items"),
)
DEPARTMENTS = Layout(
    "departments",
    "部门汇总",
    "By department",
    (
        Column("department", "部门", "Department", width=14, codes="department"),
        Column("orders", "工单", "Orders", Kind.int, 8),
        Column("complaints", "投诉", "Complaints", Kind.int, 10),
        Column("lights", "灯具", "Lights", Kind.int, 8),
        Column("on_hold", "挂起", "On hold", Kind.int, 8),
        Column("breached", "超时", "Breached", Kind.int, 10),
        Column("oldest_days", "最久天数", "Oldest (days)", Kind.float, 12),
    ),
    Chart(
        ChartKind.bar,
        "department",
        ("orders", "complaints", "breached"),
        "各部门未完成",
        "Unfinished by department",
    ),
)
PARTS = Layout(
    "parts",
    "待补货备件",
    "Parts to reorder",
    (
        Column("part", "备件", "Part", width=24),
        Column("stock", "库存", "In stock", Kind.int, 8),
        Column("on_order", "在途", "On order", Kind.int, 8),
        Column("daily_use", "日用量", "Use per day", Kind.float, 10),
        Column("runs_out_on", "预计用完日", "Runs out on", width=12),
        Column("order_by", "最晚下单日", "Order by", width=12),
    ),
)
"""Parts whose order-by day has come by the report's end (`hub.parts`)."""


@dataclass(frozen=True)
class Clock:
    """What the SLA state needs of a case's deadlines."""

    pending: list[datetime]
    breached: bool


def sla_state(clock: Clock, *, on_hold: bool, at: datetime) -> tuple[str, datetime | None]:
    """`breached`, `paused`, `due_soon`, `on_time` or `none`, and the next due time."""
    next_due = min(clock.pending, default=None)
    if clock.breached or (not on_hold and next_due is not None and next_due < at):
        return "breached", next_due  # overdue counts before the watchdog has flagged it
    if on_hold:
        return "paused", next_due
    if next_due is None:
        return "none", None
    return ("due_soon" if next_due - at <= DUE_SOON else "on_time"), next_due


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _clocks(
    session: Session, table: Any, key: Any, cases: dict[int, Any], at: datetime
) -> dict[int, Clock]:
    """Per case, its current cycle's pending due times (holds counted) and whether it breached."""
    pending: dict[int, list[datetime]] = {i: [] for i in cases}
    breached: set[int] = set()
    for chunk in _chunks(list(cases)):
        for row in session.scalars(select(table).where(key.in_(chunk))):
            case = cases[getattr(row, key.key)]
            if row.cycle != case.reopen_count:
                continue
            if row.breached_at is not None and row.met_at is None:
                breached.add(case.id)
            elif row.met_at is None:
                due = effective_due(row, hold_started_at=case.hold_started_at, now=at)
                pending[case.id].append(due)
    return {i: Clock(pending[i], i in breached) for i in cases}


def _age(since: datetime, at: datetime) -> float:
    return round((at - since).total_seconds() / 86400, 1)


def _orders(session: Session, site_id: str, until: datetime) -> list[dict[str, Any]]:
    done = [OrderStatus.closed, OrderStatus.cancelled]
    orders = {
        o.id: o
        for o in session.scalars(
            select(WorkOrder).where(
                WorkOrder.site_id == site_id,
                WorkOrder.created_at < until,
                or_(WorkOrder.status.not_in(done), WorkOrder.closed_at >= until),
            )
        )
    }
    kinds = dict(
        session.execute(
            select(Device.id, Device.kind).where(
                Device.id.in_({o.device_id for o in orders.values() if o.device_id})
            )
        ).all()
    )
    clocks = _clocks(session, Deadline, Deadline.work_order_id, orders, until)
    rows = []
    for order in orders.values():
        state, next_due = sla_state(
            clocks[order.id], on_hold=order.hold_started_at is not None, at=until
        )
        rows.append(
            {
                "department": order.department,
                "type": "work_order",
                "id": order.id,
                "light": kinds.get(order.device_id or "") == DeviceKind.light,
                "title": order.title,
                "title_en": order.title_en,
                "location": order.location.path if order.location else None,
                "status": order.status,
                "priority": order.priority,
                "registered_at": order.created_at,
                "age_days": _age(order.created_at, until),
                "hold_reason": order.hold_reason,
                "on_hold_since": order.hold_started_at,
                "sla": state,
                "next_due": next_due,
                "escalation_level": order.escalation_level,
            }
        )
    return rows


def _complaints(session: Session, site_id: str, until: datetime) -> list[dict[str, Any]]:
    done = [ComplaintStatus.archived, ComplaintStatus.withdrawn]
    complaints = {
        c.id: c
        for c in session.scalars(
            select(Complaint).where(
                Complaint.site_id == site_id,
                Complaint.received_at < until,
                or_(Complaint.status.not_in(done), Complaint.closed_at >= until),
            )
        )
    }
    departments: dict[int, str] = {}
    for chunk in _chunks(list(complaints)):
        for complaint_id, department in session.execute(
            select(ComplaintWorkOrder.complaint_id, WorkOrder.department)
            .join(WorkOrder, WorkOrder.id == ComplaintWorkOrder.work_order_id)
            .where(ComplaintWorkOrder.complaint_id.in_(chunk))
            .order_by(ComplaintWorkOrder.id)
        ):
            departments.setdefault(complaint_id, department)
    clocks = _clocks(session, ComplaintDeadline, ComplaintDeadline.complaint_id, complaints, until)
    rows = []
    for c in complaints.values():
        where: Location | None = c.location or c.unit
        state, next_due = sla_state(clocks[c.id], on_hold=c.hold_started_at is not None, at=until)
        rows.append(
            {
                "department": departments.get(c.id, Department.front_desk),
                "type": "complaint",
                "id": c.id,
                "light": DeviceKind.light in (c.device_kinds or []),
                "title": c.content[:200],
                "location": where.path if where else None,
                "status": c.status,
                "priority": c.severity,
                "registered_at": c.received_at,
                "age_days": _age(c.received_at, until),
                "hold_reason": c.hold_reason,
                "on_hold_since": c.hold_started_at,
                "sla": state,
                "next_due": next_due,
                "escalation_level": c.escalation_level,
            }
        )
    return rows


def _departments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per: dict[str, Counter[str]] = {}
    oldest: dict[str, float] = {}
    for row in rows:
        tally = per.setdefault(row["department"], Counter())
        tally["orders" if row["type"] == "work_order" else "complaints"] += 1
        tally["lights"] += row["light"]
        tally["on_hold"] += row["on_hold_since"] is not None
        tally["breached"] += row["sla"] == "breached"
        oldest[row["department"]] = max(oldest.get(row["department"], 0.0), row["age_days"])
    return [
        {
            "department": department,
            **{k: t[k] for k in ("orders", "complaints", "lights", "on_hold", "breached")},
            "oldest_days": oldest[department],
        }
        for department, t in sorted(per.items(), key=lambda kv: (-kv[1]["lights"], kv[0]))
    ]


def _reorders(session: Session, site_id: str, until: datetime) -> list[dict[str, Any]]:
    """The site's parts to reorder at `until`: their order-by day has come."""
    found = parts.list_parts(session=session, site_ids=[site_id])
    outlooks = parts.forecasts(session=session, parts=found, now=until, today=until.date())
    return [
        {
            "part": f"{p.name} {p.name_en}".strip(),
            "stock": p.stock,
            "on_order": p.on_order,
            "daily_use": outlooks[p.id].daily_use,
            "runs_out_on": str(outlooks[p.id].runs_out_on or ""),
            "order_by": str(outlooks[p.id].order_by or ""),
        }
        for p in found
        if outlooks[p.id].due(until.date())
    ]


def unfinished(
    *, session: Session, site_id: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """Everything still open at `until`, lights first, then by department and age."""
    rows = _orders(session, site_id, until) + _complaints(session, site_id, until)
    rows.sort(key=lambda r: (not r["light"], r["department"], -r["age_days"], r["type"], r["id"]))
    reorders = _reorders(session, site_id, until)
    return Report(
        name="unfinished",
        site=site_id,
        since=since,
        until=until,
        generated_at=now,
        totals={
            "items": len(rows),
            "orders": sum(1 for r in rows if r["type"] == "work_order"),
            "complaints": sum(1 for r in rows if r["type"] == "complaint"),
            "lights": sum(1 for r in rows if r["light"]),
            "on_hold": sum(1 for r in rows if r["on_hold_since"] is not None),
            "breached": sum(1 for r in rows if r["sla"] == "breached"),
            "new_in_period": sum(1 for r in rows if r["registered_at"] >= since),
            "parts_to_reorder": len(reorders),
        },
        sections={"items": rows, "departments": _departments(rows), "parts": reorders},
    )
