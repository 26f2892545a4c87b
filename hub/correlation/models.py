"""ORM models of correlation: the links found, the facts already reacted to, first responses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

# Signals have 64-bit ids on PostgreSQL; SQLite keys are INTEGER either way.
TargetId = BigInteger().with_variant(Integer(), "sqlite")


class CorrelationLink(Base):
    """A complaint tied to something that explains it, with the score and the reasons."""

    __tablename__ = "correlation_links"
    __table_args__ = (
        UniqueConstraint("complaint_id", "target_type", "target_id"),
        Index(None, "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(TargetId)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    found: Mapped[str] = mapped_column(String(16))
    """How it was found: at intake, or from an alarm raised later."""
    attached: Mapped[bool] = mapped_column(default=False)
    """The complaint was attached to this order as its known issue."""
    at: Mapped[datetime]


class Reaction(Base):
    """A committed fact (an alarm raised, an order opened) the desk's reactions have handled."""

    __tablename__ = "correlation_reactions"

    subject: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]


class FirstResponse(Base):
    """A leak order nobody was dispatched to in time: the shut-off task raised for it."""

    __tablename__ = "first_responses"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    task_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )
    raised_at: Mapped[datetime]
    assignee: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
