"""Forecast rows: read the readings that came since the last pass, keep each track, list them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.forecasts.enums import SUPPLIES, Quantity
from hub.forecasts.models import Forecast, ForecastCursor
from hub.forecasts.projection import Forecast as Outcome
from hub.forecasts.projection import Settings, Track, at_hours
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.models import Signal

DISPENSER = Settings()
BATTERY = Settings(
    daily=False, jump=5.0, silent_after=timedelta(hours=12), stuck_count=10**9, noisy_sd=2.0
)
"""A battery drains without a daily pattern, slowly: no stuck test (it may hold for days)."""
QUANTITIES: dict[str, tuple[Quantity, ...]] = {
    DeviceKind.restroom: SUPPLIES,
    DeviceKind.leak: (Quantity.battery,),
}
"""The quantities forecast for each device kind."""
BATCH = 20_000
"""Signals read per site per pass; the rest waits for the next pass."""


def settings_for(quantity: str) -> Settings:
    """How a quantity's readings are read."""
    return BATTERY if quantity == Quantity.battery else DISPENSER


@dataclass
class Readings:
    """What the new signals of one device say, in time order."""

    device_id: str
    kind: str
    levels: list[tuple[datetime, str, float, int | None]] = field(default_factory=list)
    refills: list[tuple[datetime, str]] = field(default_factory=list)


def new_readings(
    *, session: Session, site_id: str, now: datetime
) -> tuple[dict[str, Readings], ForecastCursor, int]:
    """The site's readings since its cursor, by device; the cursor and the last signal id read."""
    cursor = session.get(ForecastCursor, site_id)
    if cursor is None:
        cursor = ForecastCursor(site_id=site_id, signal_id=0, updated_at=now)
        session.add(cursor)
    rows = session.execute(
        select(
            Signal.id,
            Signal.device_id,
            Signal.kind,
            Signal.channel,
            Signal.type,
            Signal.ts,
            Signal.payload,
        )
        .where(
            Signal.site_id == site_id,
            Signal.id > cursor.signal_id,
            Signal.kind.in_(list(QUANTITIES)),
            Signal.channel.in_(("telemetry", "event")),
        )
        .order_by(Signal.id)
        .limit(BATCH)
    ).all()
    out: dict[str, Readings] = {}
    last = cursor.signal_id
    for sid, device_id, kind, channel, kind_type, ts, payload in rows:
        last = max(last, sid)
        readings = out.setdefault(device_id, Readings(device_id, kind))
        if channel == "event":
            if kind_type == "refilled" and isinstance(payload.get("item"), str):
                readings.refills.append((ts, f"{payload['item']}_pct"))
            continue
        visits = payload.get("visits")
        for quantity in QUANTITIES[kind]:
            value = payload.get(quantity.value)
            if isinstance(value, int | float) and not isinstance(value, bool):
                readings.levels.append(
                    (ts, quantity.value, float(value), visits if isinstance(visits, int) else None)
                )
    for readings in out.values():
        readings.levels.sort(key=lambda r: r[0])
    return out, cursor, last


def rows_of(*, session: Session, device_ids: Iterable[str]) -> dict[tuple[str, str], Forecast]:
    """The forecast rows of these devices, by (device, quantity)."""
    ids = sorted(set(device_ids))
    out: dict[tuple[str, str], Forecast] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in session.scalars(select(Forecast).where(Forecast.device_id.in_(chunk))):
            out[(row.device_id, row.quantity)] = row
    return out


def keep(
    *,
    session: Session,
    row: Forecast | None,
    site_id: str,
    device_id: str,
    quantity: str,
    track: Track,
    outcome: Outcome,
    now: datetime,
) -> Forecast:
    """Write a track and what it forecasts into its row (made on first use)."""
    if row is None:
        row = Forecast(site_id=site_id, device_id=device_id, quantity=quantity, track={})
        session.add(row)
    row.outlook = outcome.outlook
    row.level = outcome.level
    row.rate_per_hour = outcome.rate_per_hour
    row.runs_out_at = outcome.runs_out_at
    row.earliest = outcome.earliest
    row.latest = outcome.latest
    row.confidence = outcome.confidence
    row.since = outcome.since
    row.readings = outcome.readings
    row.last_reading_at = None if track.last_at is None else at_hours(track.last_at)
    row.track = track.to_dict()
    row.updated_at = now
    return row


def list_forecasts(
    *,
    session: Session,
    site_ids: Collection[str],
    site: str | None = None,
    kind: str | None = None,
    device_id: str | None = None,
) -> Sequence[Forecast]:
    """Forecasts in the caller's sites, soonest run-out first."""
    query = select(Forecast).where(Forecast.site_id.in_(list(site_ids)))
    if site is not None:
        query = query.where(Forecast.site_id == site)
    if device_id is not None:
        query = query.where(Forecast.device_id == device_id)
    if kind is not None:
        query = query.join(Device, Device.id == Forecast.device_id).where(Device.kind == kind)
    return session.scalars(
        query.order_by(Forecast.runs_out_at.is_(None), Forecast.runs_out_at, Forecast.device_id)
    ).all()


def due(
    *, session: Session, site_id: str, quantities: Sequence[str], before: datetime
) -> Sequence[Forecast]:
    """Falling forecasts of the site that run out before `before`."""
    return session.scalars(
        select(Forecast).where(
            Forecast.site_id == site_id,
            Forecast.quantity.in_(list(quantities)),
            Forecast.outlook == "falling",
            Forecast.runs_out_at <= before,
        )
    ).all()


def mark_silent(*, session: Session, site_id: str, now: datetime) -> int:
    """Forecasts whose device stopped reporting: silent, no run-out (availability's business)."""
    count = 0
    for quantities, settings in ((SUPPLIES, DISPENSER), ((Quantity.battery,), BATTERY)):
        result = session.execute(
            update(Forecast)
            .where(
                Forecast.site_id == site_id,
                Forecast.quantity.in_([q.value for q in quantities]),
                Forecast.outlook != "silent",
                Forecast.last_reading_at < now - settings.silent_after,
            )
            .values(outlook="silent", runs_out_at=None, earliest=None, latest=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        count += int(getattr(result, "rowcount", 0) or 0)
    return count


def forecast_sites(*, session: Session) -> Sequence[str]:
    """Sites with devices whose levels are forecast."""
    return session.scalars(
        select(Device.site_id).where(Device.kind.in_(list(QUANTITIES))).distinct()
    ).all()


def devices_of(*, session: Session, device_ids: Iterable[str]) -> dict[str, Device]:
    """Registry rows by id."""
    ids = sorted(set(device_ids))
    out: dict[str, Device] = {}
    for start in range(0, len(ids), 500):
        for device in session.scalars(
            select(Device).where(Device.id.in_(ids[start : start + 500]))
        ):
            out[device.id] = device
    return out


ALARM_TYPES = {
    "supplies": ("supplies_forecast", "supplies_low", "supplies_empty"),
    "battery": ("battery_forecast", "battery_low"),
}
"""The alarms whose order handles a quantity running out."""


def orders_of(*, session: Session, rows: Sequence[Forecast]) -> dict[tuple[str, str], int]:
    """The open order handling each forecast's quantity (by device and quantity), if any."""
    ids = sorted({r.device_id for r in rows})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(ids), 500):
        for device_id, alarm_type, order_id in session.execute(
            select(Alarm.device_id, Alarm.type, Alarm.work_order_id).where(
                Alarm.device_id.in_(ids[start : start + 500]),
                Alarm.cleared_at.is_(None),
                Alarm.work_order_id.is_not(None),
            )
        ):
            group = "battery" if alarm_type in ALARM_TYPES["battery"] else "supplies"
            if alarm_type in ALARM_TYPES[group] and order_id is not None:
                found.setdefault((device_id, group), order_id)
    return {
        (r.device_id, r.quantity): found[key]
        for r in rows
        if (key := (r.device_id, "battery" if r.quantity == Quantity.battery else "supplies"))
        in found
    }
