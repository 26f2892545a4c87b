"""ORM models of patrol logs: routes and checkpoints, rounds (cases), entries, discrepancies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import CaseColumns, CaseDeadlineColumns, CaseEventColumns
from hub.db import Base
from hub.registry.models import Location


class InspectionRoute(Base):
    """A patrol route: checkpoints walked every `interval_minutes` (e.g. restrooms every 2 h)."""

    __tablename__ = "inspection_routes"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    interval_minutes: Mapped[int]
    grace_minutes: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))

    checkpoints: Mapped[list[RouteCheckpoint]] = relationship(
        back_populates="route", cascade="all, delete-orphan", order_by="RouteCheckpoint.position"
    )


class RouteCheckpoint(Base):
    """A place (or one device) on a route, and the items checked there."""

    __tablename__ = "inspection_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_routes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    items: Mapped[list[str]] = mapped_column(JSON, default=list)

    route: Mapped[InspectionRoute] = relationship(back_populates="checkpoints")
    location: Mapped[Location | None] = relationship(lazy="joined")


class Inspection(Base):
    """One patrol log entry: who looked where, when, and what they wrote down."""

    __tablename__ = "inspections"
    __table_args__ = (Index(None, "site_id", "observed_at"), Index(None, "window_until"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    route_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_routes.id", ondelete="SET NULL"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    inspector: Mapped[str] = mapped_column(String(128))
    observed_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime]
    window_since: Mapped[datetime]
    window_until: Mapped[datetime]

    location: Mapped[Location | None] = relationship(lazy="joined")
    items: Mapped[list[InspectionItem]] = relationship(
        back_populates="inspection",
        cascade="all, delete-orphan",
        order_by="InspectionItem.position",
    )
    discrepancies: Mapped[list[Discrepancy]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Discrepancy.id"
    )
    devices: Mapped[list[InspectionDevice]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )


class InspectionItem(Base):
    """One line of an entry: the item, the state claimed, the note, what the sensors said."""

    __tablename__ = "inspection_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    item: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(16))

    inspection: Mapped[Inspection] = relationship(back_populates="items")


class InspectionDevice(Base):
    """A device an entry was checked against: a late message from it re-checks the entry."""

    __tablename__ = "inspection_devices"

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[str] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    inspection: Mapped[Inspection] = relationship(back_populates="devices")


class Discrepancy(Base):
    """An item of an entry the sensors contradict: why, and the signals that show it."""

    __tablename__ = "inspection_discrepancies"
    __table_args__ = (Index(None, "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(8))
    claimed: Mapped[str] = mapped_column(String(8))
    observed: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    inspection: Mapped[Inspection] = relationship(back_populates="discrepancies")


class InspectionRound(CaseColumns, Base):
    """One period of a route, tracked as a case: due until every checkpoint is walked."""

    __tablename__ = "inspection_rounds"
    __table_args__ = (
        UniqueConstraint("route_id", "period_start"),
        Index(None, "site_id", "status"),
    )

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    route_id: Mapped[int] = mapped_column(ForeignKey("inspection_routes.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(8))
    held_from: Mapped[str | None] = mapped_column(String(8))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    visited: Mapped[list[int]] = mapped_column(JSON, default=list)

    route: Mapped[InspectionRoute] = relationship(lazy="joined")
    history: Mapped[list[RoundEvent]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundEvent.id"
    )
    deadlines: Mapped[list[RoundDeadline]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundDeadline.id"
    )


class RoundEvent(CaseEventColumns, Base):
    """One recorded move or fact of a round (opened, done, missed, sla_breach)."""

    __tablename__ = "inspection_round_events"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_rounds.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(8))
    to_status: Mapped[str | None] = mapped_column(String(8))

    round: Mapped[InspectionRound] = relationship(back_populates="history")


class RoundDeadline(CaseDeadlineColumns, Base):
    """When a round must be walked by."""

    __tablename__ = "inspection_round_deadlines"
    __table_args__ = (UniqueConstraint("round_id", "step", "cycle"),)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_rounds.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(8))

    round: Mapped[InspectionRound] = relationship(back_populates="deadlines")
