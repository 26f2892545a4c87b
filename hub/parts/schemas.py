"""Pydantic shapes of parts, their movements and forecasts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from hub.inputs import Id, Input
from hub.parts.enums import MoveReason
from hub.parts.models import Part, PartMovement
from hub.registry.enums import DeviceKind

Count = Annotated[int, Field(ge=0, le=1_000_000)]
MAX_LEAD_DAYS = 365


class PartIn(Input):
    """A part the site keeps."""

    site: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=120)
    name_en: str = Field("", max_length=120)
    unit: str = Field("pcs", min_length=1, max_length=16)
    stock: Count = 0
    min_stock: Count = 0
    lead_days: int = Field(7, ge=0, le=MAX_LEAD_DAYS)
    device_kind: DeviceKind | None = None
    """The device kind whose resolved orders use one (`light` for lamps)."""


class MovementIn(Input):
    """A change of stock: `ordered`/`received` count up, `used` down, `corrected` either way."""

    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: MoveReason
    work_order_id: Id | None = None
    note: str = Field("", max_length=300)


class PartOut(BaseModel):
    """A part with its stock and what is on order."""

    id: int
    site: str
    name: str
    name_en: str
    unit: str
    device_kind: str | None
    stock: int
    min_stock: int
    lead_days: int
    on_order: int
    reorder_since: datetime | None
    updated_at: datetime

    @classmethod
    def build(cls, part: Part) -> PartOut:
        """The API view of `part`."""
        return cls(
            id=part.id,
            site=part.site_id,
            name=part.name,
            name_en=part.name_en,
            unit=part.unit,
            device_kind=part.device_kind,
            stock=part.stock,
            min_stock=part.min_stock,
            lead_days=part.lead_days,
            on_order=part.on_order,
            reorder_since=part.reorder_since,
            updated_at=part.updated_at,
        )


class MovementOut(BaseModel):
    """One recorded movement: how much, why, for which order, who and when."""

    id: int
    part_id: int
    delta: int
    reason: str
    note: str
    work_order_id: int | None
    actor: str
    at: datetime
    stock_after: int
    on_order_after: int

    @classmethod
    def build(cls, m: PartMovement) -> MovementOut:
        """The API view of a movement."""
        return cls(
            id=m.id,
            part_id=m.part_id,
            delta=m.delta,
            reason=m.reason,
            note=m.note,
            work_order_id=m.work_order_id,
            actor=m.actor,
            at=m.at,
            stock_after=m.stock_after,
            on_order_after=m.on_order_after,
        )


class PartDetailOut(PartOut):
    """A part with its movements, newest first."""

    movements: list[MovementOut]


class PartForecastOut(BaseModel):
    """When a part runs out and must be ordered by; `reorder` once `order_by` has come."""

    part_id: int
    site: str
    name: str
    name_en: str
    stock: int
    daily_use: float
    runs_out_on: date | None
    order_by: date | None
    on_order: int
    lead_days: int
    reorder: bool


class PartForecastList(BaseModel):
    """The parts forecast of the caller's sites."""

    items: list[PartForecastOut]


class PartList(BaseModel):
    """Parts of the caller's sites."""

    items: list[PartOut]
