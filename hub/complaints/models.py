"""ORM models of the complaint desk: the ledger entry, its history, deadlines, replies and more."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import CaseColumns, CaseDeadlineColumns, CaseEventColumns
from hub.db import Base
from hub.registry.models import Location


class Complaint(CaseColumns, Base):
    """One contact in the ledger (台账), tracked as a case until archived."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index(None, "site_id", "status"),
        Index(None, "site_id", "received_at"),
    )

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))
    kind_as_received: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    content: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text, default="")
    target_department: Mapped[str] = mapped_column(String(200), default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("owners.id", ondelete="SET NULL"), index=True
    )
    complainant_name: Mapped[str] = mapped_column(String(128), default="")
    complainant_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_text: Mapped[str | None] = mapped_column(String(400), index=True)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    receiver: Mapped[str] = mapped_column(String(128))
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assignee: Mapped[str | None] = mapped_column(String(200))

    # Classification: the effective values, and what the classifier said on intake.
    responsibility: Mapped[str] = mapped_column(String(16))
    party: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24), index=True)
    device_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    auto_classification: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    location_hint: Mapped[str | None] = mapped_column(String(400))

    repeat_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="SET NULL"), index=True
    )
    repeat_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)

    reasonable: Mapped[bool | None]
    responsibility_stated_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    loss_amount: Mapped[int | None]
    callback_outcome: Mapped[str | None] = mapped_column(String(16))
    callback_note: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)

    held_from: Mapped[str | None] = mapped_column(String(20))

    unit: Mapped[Location | None] = relationship(foreign_keys=[unit_id], lazy="joined")
    location: Mapped[Location | None] = relationship(foreign_keys=[location_id], lazy="joined")
    history: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintEvent.id"
    )
    deadlines: Mapped[list[ComplaintDeadline]] = relationship(
        back_populates="complaint",
        cascade="all, delete-orphan",
        order_by="ComplaintDeadline.id",
    )
    replies: Mapped[list[Reply]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="Reply.id"
    )
    escalations: Mapped[list[Escalation]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="Escalation.id"
    )
    overrides: Mapped[list[ClassificationOverride]] = relationship(
        back_populates="complaint",
        cascade="all, delete-orphan",
        order_by="ClassificationOverride.id",
    )
    work_orders: Mapped[list[ComplaintWorkOrder]] = relationship(
        back_populates="complaint",
        cascade="all, delete-orphan",
        order_by="ComplaintWorkOrder.id",
    )


class ComplaintEvent(CaseEventColumns, Base):
    """One recorded move or notable fact in a complaint's life: who, when, from, to, why."""

    __tablename__ = "complaint_events"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))

    complaint: Mapped[Complaint] = relationship(back_populates="history")


class ComplaintDeadline(CaseDeadlineColumns, Base):
    """The due time of one workflow step (a reopening after a failed callback is a new cycle)."""

    __tablename__ = "complaint_deadlines"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(20))

    complaint: Mapped[Complaint] = relationship(back_populates="deadlines")


class Reply(Base):
    """What the desk said to the owner, the owner's opinion, and the phrase check's findings."""

    __tablename__ = "complaint_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    owner_opinion: Mapped[str] = mapped_column(Text, default="")
    owner_accepts: Mapped[bool | None]
    status_at_reply: Mapped[str] = mapped_column(String(20))

    complaint: Mapped[Complaint] = relationship(back_populates="replies")
    hits: Mapped[list[PhraseHit]] = relationship(back_populates="reply", order_by="PhraseHit.id")


class PhraseHit(Base):
    """A forbidden phrase or anger don't found in a reply (kept for training statistics).

    A blocked reply is not stored, but its hits are, with `reply_id` empty and `blocked` set.
    """

    __tablename__ = "complaint_phrase_hits"
    __table_args__ = (Index(None, "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint_replies.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(32))
    matched: Mapped[str] = mapped_column(Text)
    blocked: Mapped[bool] = mapped_column(default=False)

    reply: Mapped[Reply | None] = relationship(back_populates="hits")


class Escalation(Base):
    """An escalation to management: why, who was told, when."""

    __tablename__ = "complaint_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    triggers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notified: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")

    complaint: Mapped[Complaint] = relationship(back_populates="escalations")


class ClassificationOverride(Base):
    """Staff corrected one field of the classification (kept for statistics and tuning)."""

    __tablename__ = "complaint_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(24))
    from_value: Mapped[str] = mapped_column(String(200))
    to_value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")

    complaint: Mapped[Complaint] = relationship(back_populates="overrides")


class ComplaintWorkOrder(Base):
    """A work order opened for (or linked to) a complaint; read from either side."""

    __tablename__ = "complaint_work_orders"
    __table_args__ = (UniqueConstraint("complaint_id", "work_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))

    complaint: Mapped[Complaint] = relationship(back_populates="work_orders")


class UnifiedAnswer(Base):
    """The answer managers agree on for a hot item (统一答复), one row per version.

    A hot item is one value of one dimension of the weekly statistics: a category, a cause,
    a place, a device kind. The desk is shown the latest version of every answer whose item
    a complaint matches, so every owner hears the same thing.
    """

    __tablename__ = "complaint_answers"
    __table_args__ = (UniqueConstraint("site_id", "dimension", "value", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(400))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
