"""Pydantic shapes of work orders in and out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hub.cases.deadlines import effective_due
from hub.cases.schemas import DeadlineOut, current_deadlines
from hub.inputs import Id, Input
from hub.workorders.enums import Department, Priority, Source, Status, Step
from hub.workorders.models import WorkOrder


class WorkOrderCreate(Input):
    """A manual order typed in by staff."""

    site: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=10_000)
    department: Department
    priority: Priority = Priority.normal
    device_id: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=400, description="Location path, e.g. 3/12")
    assignee: str | None = Field(None, max_length=128)


class TransitionIn(Input):
    """A lifecycle move."""

    to: Status
    assignee: str | None = Field(None, max_length=128)
    note: str = Field("", max_length=10_000)
    hold_part_id: Id | None = None
    """On a move to `on_hold`: the part the order waits for (from the site's parts store)."""
    attachment_ids: list[Id] = Field(
        default_factory=list,
        max_length=20,
        description="Photos of the move (arrived, resolved: before and after).",
    )


class HistoryOut(BaseModel):
    """One recorded event."""

    at: datetime
    actor: str
    action: str
    from_status: Status | None = Field(serialization_alias="from")
    to_status: Status | None = Field(serialization_alias="to")
    note: str
    attachment_ids: list[int] = Field(default_factory=list, description="Photos of the move.")


class WorkOrderOut(BaseModel):
    """A work order with its deadlines and history."""

    id: int
    status: Status
    source: Source
    site: str
    device_id: str | None
    location: str | None
    department: Department
    priority: Priority
    title: str
    title_en: str = Field(
        "", description="The title in English when the hub composed it ('' otherwise)."
    )
    description: str
    assignee: str | None
    alarm_ids: list[int] = Field(default_factory=list)
    complaint_ids: list[int] = Field(default_factory=list)
    due: dict[Step, DeadlineOut]
    history: list[HistoryOut]
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    hold_reason: str | None
    hold_part_id: int | None
    on_hold_since: datetime | None
    hold_total_s: int
    reopen_count: int
    escalation_level: int
    condition_cleared_at: datetime | None

    @classmethod
    def build(
        cls,
        order: WorkOrder,
        *,
        now: datetime,
        alarm_ids: list[int] | None = None,
        complaint_ids: list[int] | None = None,
        photos: dict[int, list[int]] | None = None,
    ) -> WorkOrderOut:
        """The API view of `order`; pending deadlines are shown paused while on hold."""
        current = current_deadlines(
            order.deadlines,
            due=lambda d: effective_due(d, hold_started_at=order.hold_started_at, now=now),
        )
        due = {Step(step): deadline for step, deadline in current.items()}
        return cls(
            id=order.id,
            status=Status(order.status),
            source=Source(order.source),
            site=order.site_id,
            device_id=order.device_id,
            location=order.location.path if order.location else None,
            department=Department(order.department),
            priority=Priority(order.priority),
            title=order.title,
            title_en=order.title_en,
            description=order.description,
            assignee=order.assignee,
            alarm_ids=alarm_ids or [],
            complaint_ids=complaint_ids or [],
            due=due,
            history=[
                HistoryOut(
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    from_status=Status(e.from_status) if e.from_status else None,
                    to_status=Status(e.to_status) if e.to_status else None,
                    note=e.note,
                    attachment_ids=(photos or {}).get(e.id, []),
                )
                for e in order.history
            ],
            created_by=order.created_by,
            created_at=order.created_at,
            updated_at=order.updated_at,
            closed_at=order.closed_at,
            hold_reason=order.hold_reason,
            hold_part_id=order.hold_part_id,
            on_hold_since=order.hold_started_at,
            hold_total_s=order.hold_total_s,
            reopen_count=order.reopen_count,
            escalation_level=order.escalation_level,
            condition_cleared_at=order.condition_cleared_at,
        )


class AssignIn(Input):
    """Who is to do the order (a technician of its department), and why, if it changes hands."""

    assignee: str = Field(min_length=1, max_length=128)
    note: str = Field("", max_length=2_000)


class TechnicianOut(BaseModel):
    """A technician on the dispatch board."""

    name: str
    role: str
    head: bool
    open: int
    on_site: int
    on_duty: bool
    last_seen: datetime | None


class BoardOrderOut(WorkOrderOut):
    """An order on the dispatch board, with its next deadline."""

    next_due: datetime | None
    overdue: bool


class BoardOut(BaseModel):
    """One department's open orders, in dispatch order, and its technicians."""

    department: Department
    orders: list[BoardOrderOut]
    technicians: list[TechnicianOut]


class DispatchOut(BaseModel):
    """The dispatch boards of the departments the caller dispatches, on one site."""

    site: str
    departments: list[BoardOut]
