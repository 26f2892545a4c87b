"""ORM model of the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxMessage(Base):
    """An MQTT message to publish once the transaction that wrote it has committed."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    qos: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
