"""ORM model of the live-event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class LiveEvent(Base):
    """A committed change, kept for a day so a reconnecting page can resume by its id.

    Written in the transaction that made the change (orders, alarms, complaints, notices)
    or right after the bridge's commit (device readings), so every process that shares
    the database sees the same numbered log: an API process follows it by id whether the
    bridge runs beside it or on another machine.
    """

    __tablename__ = "live_events"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime]
