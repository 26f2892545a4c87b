"""The table shapes every kind of case shares: its hold and cycle columns, its history, its
per-step deadlines.

Each kind declares its own tables from these mixins, with the key to its case and the
columns whose width is its own (`status`, `held_from`, `from_status`, `to_status`, `step`:
as long as its longest state or step name), so work orders, complaints and inspection
rounds keep separate tables of one shape.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column


class CaseColumns:
    """The columns of a case itself: state, hold, cycles, escalation, times."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    hold_started_at: Mapped[datetime | None]
    hold_total_s: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    escalation_level: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class CaseEventColumns:
    """One recorded move or notable fact in a case's life: who, when, from, to, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


class CaseDeadlineColumns:
    """The due time of one step in one cycle of a case (a reopening starts a new cycle)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    met_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
