"""Pydantic shapes of forecasts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hub.forecasts.models import Forecast


class BasedOn(BaseModel):
    """What a forecast stands on: the run since the last refill, and its readings."""

    since: datetime | None
    readings: int


class ForecastOut(BaseModel):
    """A quantity's forecast: level, use per hour now, run-out with its band, confidence."""

    device_id: str
    site: str
    quantity: str
    outlook: str
    level: float | None
    rate_per_hour: float | None
    runs_out_at: datetime | None
    earliest: datetime | None
    latest: datetime | None
    confidence: float
    order_id: int | None
    based_on: BasedOn
    updated_at: datetime

    @classmethod
    def build(cls, row: Forecast, order_id: int | None) -> ForecastOut:
        """The API view of a forecast row and the order handling its device, if any."""
        return cls(
            device_id=row.device_id,
            site=row.site_id,
            quantity=row.quantity,
            outlook=row.outlook,
            level=row.level,
            rate_per_hour=row.rate_per_hour,
            runs_out_at=row.runs_out_at,
            earliest=row.earliest,
            latest=row.latest,
            confidence=row.confidence,
            order_id=order_id,
            based_on=BasedOn(since=row.since, readings=row.readings),
            updated_at=row.updated_at,
        )


class ForecastList(BaseModel):
    """Forecasts of the caller's sites, soonest run-out first."""

    items: list[ForecastOut]
