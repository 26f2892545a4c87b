"""ORM models of the registry: sites, locations, owners, devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base
from hub.registry.enums import DeviceStatus


class Site(Base):
    """A managed property (小区); its id is the `{site}` of MQTT topics."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime]


class Location(Base):
    """A node of a site's location tree; `path` is the codes from the root, joined by '/'."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("site_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(400))

    parent: Mapped[Location | None] = relationship(remote_side=[id])


class Owner(Base):
    """An owner or resident of a unit (业主/住户)."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]

    unit: Mapped[Location | None] = relationship()


class Device(Base):
    """A registered device; `id` is the `{device}` of its MQTT topics."""

    __tablename__ = "devices"
    __table_args__ = (Index(None, "site_id", "kind"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    external_topic: Mapped[str | None] = mapped_column(String(255), unique=True)
    adapter: Mapped[str | None] = mapped_column(String(32))
    heartbeat_timeout_s: Mapped[int]
    installed_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default=DeviceStatus.offline)
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    location: Mapped[Location | None] = relationship(lazy="joined")


@dataclass(slots=True)
class DeviceRef:
    """What ingest and the rules need of a device, read with Core: no ORM object per message.

    A batch keeps `status` and `last_seen_at` current as it goes; whatever changes the
    registry row itself loads the `Device` (see `hub.alarms.engine.DeviceRules.device`).
    """

    id: str
    site_id: str
    kind: str
    status: str
    last_seen_at: datetime | None
    heartbeat_timeout_s: int

    @classmethod
    def of(cls, device: Device) -> DeviceRef:
        """The reference of a loaded device."""
        return cls(
            device.id,
            device.site_id,
            device.kind,
            device.status,
            device.last_seen_at,
            device.heartbeat_timeout_s,
        )
