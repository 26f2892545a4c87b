"""The quarantine: adapter devices heard from but not registered, held for an admin.

A zigbee2mqtt gateway or a Tasmota device speaks before anyone registered it. Its messages
are neither ingested (no site, kind or place is known) nor lost among dead letters: each
external device gets one row, with the newest message, when it was first and last heard
and how many messages came. An admin registers it from there (`approve`), after which its
messages are ingested. The number of rows is bounded (`FH_QUARANTINE_LIMIT`): a flood of
made-up names cannot grow the table without end; past the bound they are dead-lettered.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput, NotFound
from hub.registry.enums import ADAPTER_KINDS, Adapter, DeviceKind
from hub.registry.models import Device, QuarantinedDevice, Site
from hub.registry.service import add_device

PAYLOAD_CHARS = 1024
RAW_BYTES = 64 * 1024
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Heard:
    """One message of an unregistered adapter device."""

    adapter: str
    external_id: str
    topic: str
    payload: bytes
    at: datetime


def storable(text: str) -> str:
    """`text` with what PostgreSQL text refuses (U+0000, lone surrogates) as escapes."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def hold(*, session: Session, heard: Sequence[Heard], limit: int) -> list[Heard]:
    """Record `heard` in the quarantine; returns the messages it had no room for.

    One row per (adapter, external id): a known one gets the newest message and its count
    raised; a new one is added while fewer than `limit` rows exist.
    """
    latest: dict[tuple[str, str], list[Heard]] = {}
    for item in heard:
        latest.setdefault((item.adapter, item.external_id), []).append(item)
    ids = sorted({k[1] for k in latest})
    adapters = sorted({k[0] for k in latest})
    held = select(QuarantinedDevice).where(
        QuarantinedDevice.adapter.in_(adapters), QuarantinedDevice.external_id.in_(ids)
    )
    rows = {(r.adapter, r.external_id): r for r in session.scalars(held)}
    room = limit - (session.scalar(select(func.count()).select_from(QuarantinedDevice)) or 0)
    refused: list[Heard] = []
    for key, items in latest.items():
        row = rows.get(key)
        if row is None:
            if room <= 0:
                refused.extend(items)
                continue
            room -= 1
            row = _new_row(session=session, key=key, first=items[0])
        newest = items[-1]
        row.topic = storable(newest.topic)[:512]
        text = newest.payload[: PAYLOAD_CHARS * 4].decode("utf-8", "replace")
        row.payload = storable(text[:PAYLOAD_CHARS])
        row.payload_base64 = base64.b64encode(newest.payload[:RAW_BYTES]).decode("ascii")
        row.payload_bytes = len(newest.payload)
        row.last_seen_at = max(newest.at, row.last_seen_at or newest.at)
        row.count += len(items)
    session.flush()
    return refused


def _new_row(*, session: Session, key: tuple[str, str], first: Heard) -> QuarantinedDevice:
    """A held row for a device heard of for the first time, or the one another writer added.

    Two bridge workers may hear of the same new device at once; the insert of the later one
    fails inside a savepoint and it carries on with the row the other committed, instead of
    failing its whole batch.
    """
    text = first.payload[: PAYLOAD_CHARS * 4].decode("utf-8", "replace")
    row = QuarantinedDevice(
        adapter=key[0],
        external_id=key[1],
        topic=storable(first.topic)[:512],
        payload=storable(text[:PAYLOAD_CHARS]),
        payload_base64=base64.b64encode(first.payload[:RAW_BYTES]).decode("ascii"),
        payload_bytes=len(first.payload),
        first_seen_at=first.at,
        last_seen_at=first.at,
        count=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        taken = session.scalar(
            select(QuarantinedDevice).where(
                QuarantinedDevice.adapter == key[0], QuarantinedDevice.external_id == key[1]
            )
        )
        if taken is None:
            raise
        return taken
    return row


def list_quarantined(
    *, session: Session, adapter: Adapter | None, limit: int, offset: int
) -> tuple[Sequence[QuarantinedDevice], int]:
    """Held devices, the most recently heard first, and how many there are."""
    query = select(QuarantinedDevice)
    counting = select(func.count()).select_from(QuarantinedDevice)
    if adapter is not None:
        query = query.where(QuarantinedDevice.adapter == adapter)
        counting = counting.where(QuarantinedDevice.adapter == adapter)
    items = session.scalars(
        query.order_by(QuarantinedDevice.last_seen_at.desc(), QuarantinedDevice.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return items, session.scalar(counting) or 0


def get_quarantined(*, session: Session, quarantine_id: int) -> QuarantinedDevice:
    """One held device, or NotFound."""
    row = session.get(QuarantinedDevice, quarantine_id)
    if row is None:
        raise NotFound(f"no quarantined device {quarantine_id}")
    return row


@dataclass(frozen=True)
class Registration:
    """Where a held device goes in the registry."""

    device_id: str
    site_id: str
    kind: DeviceKind
    name: str = ""
    location: str | None = None
    heartbeat_timeout_s: int | None = None
    installed_on: date | None = None


def approve(
    *,
    session: Session,
    quarantine_id: int,
    registration: Registration,
    site_ids: frozenset[str],
    now: datetime,
) -> Device:
    """Register a held device with its adapter mapping; its later messages are ingested."""
    held = get_quarantined(session=session, quarantine_id=quarantine_id)
    adapter = Adapter(held.adapter)
    if registration.site_id not in site_ids or session.get(Site, registration.site_id) is None:
        raise NotFound(f"site {registration.site_id!r} not found")
    if registration.kind not in ADAPTER_KINDS[adapter]:
        kinds = ", ".join(sorted(ADAPTER_KINDS[adapter]))
        raise InvalidInput(
            f"a {adapter} device can be a {kinds}, not a {registration.kind}",
            details={"field": "kind"},
        )
    if session.get(Device, registration.device_id) is not None:
        raise Conflict(f"device {registration.device_id!r} is registered already")
    taken = session.scalar(
        select(Device.id).where(Device.adapter == adapter, Device.external_id == held.external_id)
    )
    if taken is not None:
        raise Conflict(f"{held.external_id!r} is registered already as {taken!r}")
    device = add_device(
        session=session,
        device_id=registration.device_id,
        site_id=registration.site_id,
        kind=registration.kind,
        now=now,
        name=registration.name,
        location_path=registration.location,
        adapter=adapter,
        external_id=held.external_id,
        heartbeat_timeout_s=registration.heartbeat_timeout_s,
        installed_on=registration.installed_on,
    )
    session.delete(held)
    session.flush()
    return device


def dismiss(*, session: Session, quarantine_id: int) -> None:
    """Forget a held device (it is heard of again, and held again, if it speaks again)."""
    get_quarantined(session=session, quarantine_id=quarantine_id)
    session.execute(delete(QuarantinedDevice).where(QuarantinedDevice.id == quarantine_id))
    session.flush()


def release_registered(*, session: Session, keys: Sequence[tuple[str, str]]) -> None:
    """Drop held rows of devices registered by other means (an import)."""
    for adapter, external_id in keys:
        session.execute(
            delete(QuarantinedDevice).where(
                QuarantinedDevice.adapter == adapter, QuarantinedDevice.external_id == external_id
            )
        )
