"""Pydantic shapes of the registry in the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.api.params import SLUG
from hub.inputs import Input
from hub.registry.enums import ADAPTER_KINDS, Adapter, DeviceKind, DeviceStatus
from hub.registry.models import Device, QuarantinedDevice, Site


class SiteOut(BaseModel):
    """A site in the caller's scope."""

    id: str
    name: str
    name_en: str = Field(description="The English name ('' when none): `name` is Chinese.")
    timezone: str

    @classmethod
    def build(cls, site: Site) -> SiteOut:
        """The API view of `site`."""
        return cls(id=site.id, name=site.name, name_en=site.name_en, timezone=site.timezone)


class DeviceOut(BaseModel):
    """A registered device with its live status."""

    id: str
    site: str
    kind: DeviceKind
    name: str
    name_en: str = Field(description="The English name ('' when none): `name` is Chinese.")
    location: str | None
    location_name: str | None
    location_name_en: str | None
    status: DeviceStatus
    last_seen: datetime | None = Field(
        description="Newest message, to within a tenth of the heartbeat timeout (at most 30 s)"
    )
    active_alarms: list[dict[str, Any]] = Field(default_factory=list)
    heartbeat_timeout_s: int
    external_topic: str | None
    adapter: str | None
    external_id: str | None = Field(
        description="The device's name in its adapter's topics (friendly name, Tasmota topic)."
    )
    installed_on: date | None

    @classmethod
    def build(
        cls, device: Device, *, active_alarms: list[dict[str, Any]] | None = None
    ) -> DeviceOut:
        """The API view of `device`."""
        return cls(
            id=device.id,
            site=device.site_id,
            kind=DeviceKind(device.kind),
            name=device.name,
            name_en=device.name_en,
            location=device.location.path if device.location else None,
            location_name=device.location.name if device.location else None,
            location_name_en=device.location.name_en if device.location else None,
            status=DeviceStatus(device.status),
            last_seen=device.last_seen_at,
            active_alarms=active_alarms or [],
            heartbeat_timeout_s=device.heartbeat_timeout_s,
            external_topic=device.external_topic,
            adapter=device.adapter,
            external_id=device.external_id,
            installed_on=device.installed_on,
        )


class QuarantinedOut(BaseModel):
    """An adapter device heard from but not registered: its newest message and counts."""

    id: int
    adapter: Adapter
    external_id: str
    topic: str = Field(description="The topic of its newest message.")
    payload: str = Field(description="Its newest payload as text (the first 1 KiB).")
    payload_base64: str = Field(description="Its newest payload's bytes as sent (up to 64 KiB).")
    payload_bytes: int
    first_seen: datetime
    last_seen: datetime
    count: int = Field(description="Messages heard from it.")
    kinds: list[DeviceKind] = Field(description="The kinds it can be registered as.")

    @classmethod
    def build(cls, row: QuarantinedDevice) -> QuarantinedOut:
        """The API view of a held device."""
        adapter = Adapter(row.adapter)
        return cls(
            id=row.id,
            adapter=adapter,
            external_id=row.external_id,
            topic=row.topic,
            payload=row.payload,
            payload_base64=row.payload_base64,
            payload_bytes=row.payload_bytes,
            first_seen=row.first_seen_at,
            last_seen=row.last_seen_at,
            count=row.count,
            kinds=sorted(ADAPTER_KINDS[adapter]),
        )


class QuarantinePage(BaseModel):
    """Held devices, the most recently heard first."""

    total: int
    items: list[QuarantinedOut]


class QuarantineApproval(Input):
    """Where a held device goes in the registry; its adapter and external id come with it."""

    id: str = Field(pattern=SLUG, description="The new device's id, as in its hub topics.")
    site: str = Field(pattern=SLUG, description="One of the caller's sites.")
    kind: DeviceKind
    name: str = Field("", max_length=200)
    location: str | None = Field(None, max_length=400, description="Location path, e.g. 3/12.")
    heartbeat_timeout_s: int | None = Field(None, ge=10, le=7 * 86400)
    installed_on: date | None = None
