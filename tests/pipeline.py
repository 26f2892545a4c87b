"""Helpers for pipeline tests: register devices, build MQTT messages, ingest them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.registry.service import add_device, get_or_create_site
from hub.signals.flows import BatchResult, ingest_batch
from hub.signals.service import Incoming
from hub.workorders.models import WorkOrder


def unique_site(prefix: str = "t") -> str:
    """A site id no other test run uses (brokers are shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register(
    db: Session,
    clock: ManualClock,
    site: str,
    devices: list[tuple[str, DeviceKind, str | None]],
) -> dict[str, Device]:
    """Create the site and its devices (id, kind, location path)."""
    get_or_create_site(session=db, site_id=site, name=site, now=clock.now())
    out = {}
    for device_id, kind, path in devices:
        out[device_id] = add_device(
            session=db,
            device_id=device_id,
            site_id=site,
            kind=kind,
            now=clock.now(),
            location_path=path,
        )
    db.flush()
    return out


def topic(site: str, kind: str, device: str, channel: str = "telemetry") -> str:
    """A device topic."""
    return f"fh/{site}/{kind}/{device}/{channel}"


def message(
    site: str,
    kind: str,
    device: str,
    payload: dict[str, Any] | str | bytes,
    *,
    at: datetime,
    channel: str = "telemetry",
    qos: int = 1,
    retain: bool = False,
) -> Incoming:
    """An incoming MQTT message received at `at`."""
    if isinstance(payload, dict):
        body = orjson.dumps(payload)
    elif isinstance(payload, str):
        body = payload.encode()
    else:
        body = payload
    return Incoming(
        topic=topic(site, kind, device, channel),
        payload=body,
        received_at=at,
        qos=qos,
        retain=retain,
    )


def ingest(
    db: Session, clock: ManualClock, *messages: Incoming, ctx: RuleContext | None = None
) -> BatchResult:
    """Ingest messages as one batch at the clock's time."""
    return ingest_batch(session=db, ctx=ctx or RuleContext(), messages=messages, now=clock.now())


def send(
    db: Session,
    clock: ManualClock,
    device: Device,
    payload: dict[str, Any] | str,
    *,
    channel: str = "telemetry",
    ctx: RuleContext | None = None,
) -> BatchResult:
    """Ingest one message from `device` stamped with the clock's time."""
    body = payload
    if isinstance(payload, dict) and channel != "status":
        body = {"ts": clock.now().isoformat(), **payload}
    msg = message(device.site_id, device.kind, device.id, body, at=clock.now(), channel=channel)
    return ingest(db, clock, msg, ctx=ctx)


def alarms_of(db: Session, device_id: str, *, open_only: bool = True) -> list[Alarm]:
    """The device's alarms (uncleared only by default), oldest first."""
    query = select(Alarm).where(Alarm.device_id == device_id)
    if open_only:
        query = query.where(Alarm.cleared_at.is_(None))
    return list(db.scalars(query.order_by(Alarm.id)))


def sensor_orders(db: Session, site: str) -> list[WorkOrder]:
    """The site's sensor-opened work orders, oldest first."""
    return list(
        db.scalars(
            select(WorkOrder)
            .where(WorkOrder.site_id == site, WorkOrder.source == "sensor")
            .order_by(WorkOrder.id)
        )
    )
