"""ORM models of alarms and the persisted state of duration rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.alarms.enums import AlarmStatus
from hub.db import Base


class Alarm(Base):
    """A condition on a device; at most one uncleared alarm per (device, type)."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index(
            "uq_alarms_device_id_type_uncleared",
            "device_id",
            "type",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
        Index(None, "site_id", "cleared_at"),
        Index(None, "device_id", "type", "cleared_at"),
        Index(None, "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(128))
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(128))
    reopen_count: Mapped[int] = mapped_column(default=0)
    flapping: Mapped[bool] = mapped_column(default=False)
    flap_window_start: Mapped[datetime]
    flap_changes: Mapped[int] = mapped_column(default=1)
    clear_pending_since: Mapped[datetime | None]
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )

    @property
    def status(self) -> AlarmStatus:
        """active, acked or cleared (ack and clear are independent; cleared wins)."""
        if self.cleared_at is not None:
            return AlarmStatus.cleared
        if self.acked_at is not None:
            return AlarmStatus.acked
        return AlarmStatus.active


class RuleState(Base):
    """Where a device's rule stands: since when its condition holds, whether it fired."""

    __tablename__ = "rule_states"

    device_id: Mapped[str] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(48), primary_key=True)
    since: Mapped[datetime | None] = mapped_column(index=True)
    fired: Mapped[bool] = mapped_column(default=False)
    reset_key: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]
