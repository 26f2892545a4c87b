"""ORM models of forecasts: each quantity's latest forecast and its track, and the read cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class Forecast(Base):
    """One quantity of one device: the latest forecast, and the track it was made from."""

    __tablename__ = "forecasts"
    __table_args__ = (
        UniqueConstraint("device_id", "quantity"),
        Index(None, "site_id", "runs_out_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    quantity: Mapped[str] = mapped_column(String(16))
    outlook: Mapped[str] = mapped_column(String(16))
    level: Mapped[float | None]
    rate_per_hour: Mapped[float | None]
    runs_out_at: Mapped[datetime | None]
    earliest: Mapped[datetime | None]
    latest: Mapped[datetime | None]
    confidence: Mapped[float] = mapped_column(default=0.0)
    since: Mapped[datetime | None]
    readings: Mapped[int] = mapped_column(default=0)
    last_reading_at: Mapped[datetime | None]
    track: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class ForecastCursor(Base):
    """The last signal of a site the forecasts have read (each pass reads what came after)."""

    __tablename__ = "forecast_cursors"

    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    signal_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
