"""ORM models of the registry: sites, locations, owners, devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base
from hub.registry.enums import DeviceStatus


class Site(Base):
    """A managed property (小区); its id is the `{site}` of MQTT topics."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """The English name; pages and reports in English show it, falling back to `name`."""
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
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
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
    __table_args__ = (Index(None, "site_id", "kind"), UniqueConstraint("adapter", "external_id"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    external_topic: Mapped[str | None] = mapped_column(String(255), unique=True)
    adapter: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    """The device's name in its adapter's topics (a zigbee2mqtt friendly name, a Tasmota topic)."""
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


class QuarantinedDevice(Base):
    """An adapter device the registry does not know yet, held for an admin to register.

    One row per (adapter, external id) however often it speaks: the newest message is kept,
    with when it was first and last heard and how many messages came.
    """

    __tablename__ = "quarantined_devices"
    __table_args__ = (UniqueConstraint("adapter", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adapter: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(512))
    payload: Mapped[str] = mapped_column(Text)
    """The newest payload as storable text (the first 1 KiB)."""
    payload_base64: Mapped[str] = mapped_column(Text)
    """The newest payload's bytes as sent (up to 64 KiB)."""
    payload_bytes: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(BigInteger)


class BrokerCredential(Base):
    """A broker login: its PBKDF2 hash in Mosquitto's `$7$` form, never the password."""

    __tablename__ = "broker_credentials"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    adapter: Mapped[str | None] = mapped_column(String(32))
    """For a gateway: the adapter whose base topic it publishes under."""
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
