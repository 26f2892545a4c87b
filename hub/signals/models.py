"""ORM models of signals, per-device ingest state and dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Signal(Base):
    """One accepted device message (telemetry, event or status), never updated."""

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("device_id", "idem_key"),
        Index(None, "device_id", "ts"),
        Index(None, "site_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    site_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    type: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[datetime]
    received_at: Mapped[datetime]
    idem_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))


class DeviceState(Base):
    """A device's merged latest readings and the head of its signal hash chain."""

    __tablename__ = "device_states"
    # Rewritten by every batch: room on each page keeps the updates in place (HOT).
    __table_args__ = {"postgresql_with": {"fillfactor": 50}}

    device_id: Mapped[str] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state_ts: Mapped[datetime | None]
    head_digest: Mapped[str] = mapped_column(String(64))
    signal_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class DeadLetter(Base):
    """A rejected MQTT message: topic, readable payload, original bytes, reason, when."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index(None, "received_at"), Index(None, "reason"), Index(None, "digest"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(512))
    payload: Mapped[str] = mapped_column(Text)
    payload_bytes: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    site_id: Mapped[str | None] = mapped_column(String(64), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    payload_base64: Mapped[str | None] = mapped_column(Text)
    """The payload's bytes as sent (the first `DEAD_RAW_BYTES`); None on rows before 0005."""
    digest: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of topic and payload: the same retained message is dead-lettered once."""
