"""ORM model of notices to residents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class Notice(Base):
    """A notice for the units a fault on a shared part affects; withdrawn when it is fixed."""

    __tablename__ = "notices"
    __table_args__ = (Index(None, "site_id", "withdrawn_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    alarm_type: Mapped[str] = mapped_column(String(48))
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The places affected (for a leak, its floor and the floors below)."""
    fault_locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Where the fault itself is (the devices of the order's alarms)."""
    units: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    body: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
