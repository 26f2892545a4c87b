"""ORM models of the parts store: parts per site and every movement of their stock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class Part(Base):
    """A spare part a site keeps: stock, the minimum, the supplier's lead time, what is ordered."""

    __tablename__ = "parts"
    __table_args__ = (
        UniqueConstraint("site_id", "name"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("on_order >= 0", name="on_order_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    unit: Mapped[str] = mapped_column(String(16))
    device_kind: Mapped[str | None] = mapped_column(String(16))
    """The device kind whose resolved orders use one of this part (a lamp for `light`)."""
    stock: Mapped[int]
    min_stock: Mapped[int]
    lead_days: Mapped[int]
    on_order: Mapped[int] = mapped_column(default=0)
    reorder_since: Mapped[datetime | None]
    """When the part's `order_by` came (the `part_reorder` alarm); None while it is not due."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PartMovement(Base):
    """One change of a part's stock or order: how much, why, for which order, who, when."""

    __tablename__ = "part_movements"
    __table_args__ = (Index(None, "part_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(300), default="")
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
    stock_after: Mapped[int]
    on_order_after: Mapped[int]
