"""Pydantic shapes of the registry in the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.registry.enums import DeviceKind, DeviceStatus
from hub.registry.models import Device, Site


class SiteOut(BaseModel):
    """A site in the caller's scope."""

    id: str
    name: str
    timezone: str

    @classmethod
    def build(cls, site: Site) -> SiteOut:
        """The API view of `site`."""
        return cls(id=site.id, name=site.name, timezone=site.timezone)


class DeviceOut(BaseModel):
    """A registered device with its live status."""

    id: str
    site: str
    kind: DeviceKind
    name: str
    location: str | None
    location_name: str | None
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
            location=device.location.path if device.location else None,
            location_name=device.location.name if device.location else None,
            status=DeviceStatus(device.status),
            last_seen=device.last_seen_at,
            active_alarms=active_alarms or [],
            heartbeat_timeout_s=device.heartbeat_timeout_s,
            external_topic=device.external_topic,
            adapter=device.adapter,
            external_id=device.external_id,
            installed_on=device.installed_on,
        )
