"""ORM models of work orders, their history and their per-step deadlines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import CaseColumns, CaseDeadlineColumns, CaseEventColumns
from hub.db import Base
from hub.registry.models import Location


class WorkOrder(CaseColumns, Base):
    """A job for engineering, cleaning or security, with its SLA clock."""

    __tablename__ = "work_orders"
    __table_args__ = (
        Index(None, "site_id", "status"),
        Index(None, "created_at"),
    )

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    held_from: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    """The title in English when the hub composed it (a sensor's order); '' otherwise."""
    description: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    condition_cleared_at: Mapped[datetime | None]
    hold_part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id", ondelete="SET NULL"))
    """The part an order on hold waits for (`hold_part_id` on the hold move), if any."""

    location: Mapped[Location | None] = relationship(lazy="joined")
    history: Mapped[list[WorkOrderEvent]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="WorkOrderEvent.id",
    )
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="Deadline.id",
    )


class WorkOrderEvent(CaseEventColumns, Base):
    """One recorded move or notable fact in an order's life: who, when, from, to, why."""

    __tablename__ = "work_order_events"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))

    order: Mapped[WorkOrder] = relationship(back_populates="history")


class Deadline(CaseDeadlineColumns, Base):
    """The due time of one step in one cycle of an order (a reopening starts a new cycle)."""

    __tablename__ = "work_order_deadlines"
    __table_args__ = (UniqueConstraint("work_order_id", "step", "cycle"),)

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(16))

    order: Mapped[WorkOrder] = relationship(back_populates="deadlines")
