"""Registry service: sites, the location tree, owners and devices."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.errors import InvalidInput, NotFound
from hub.registry.enums import DeviceKind, DeviceStatus, LocationKind
from hub.registry.models import Device, Location, Owner, Site

# Default heartbeat timeouts per kind: a device silent this long is late, twice this offline.
DEFAULT_HEARTBEAT_S: dict[str, int] = {
    DeviceKind.gate: 120,
    DeviceKind.light: 300,
    DeviceKind.leak: 900,
    DeviceKind.restroom: 600,
}

CODE_CHARS = 64
"""The longest code of one level of a location path (`locations.code`)."""

# Depth in the tree -> level; the third level is a unit when it looks like a room number.
_LEVELS = (LocationKind.building, LocationKind.floor)


def get_or_create_site(
    *, session: Session, site_id: str, name: str, now: datetime, name_en: str = ""
) -> Site:
    """The site with `site_id`, created with `name` (and `name_en`) if missing."""
    site = session.get(Site, site_id)
    if site is None:
        site = Site(id=site_id, name=name, name_en=name_en, created_at=now)
        session.add(site)
        session.flush()
    return site


def split_path(path: str) -> list[str]:
    """The codes of a location path such as `3/12/1201`; blanks are refused."""
    codes = [c.strip() for c in path.strip().strip("/").split("/")]
    if not path.strip() or any(not c for c in codes):
        raise InvalidInput(f"bad location path {path!r}: use codes joined by '/', e.g. 3/12")
    if any(len(c) > CODE_CHARS for c in codes):  # the column's width: PostgreSQL would refuse
        raise InvalidInput(f"bad location path: a code is at most {CODE_CHARS} characters")
    return codes


def ensure_location(
    *,
    session: Session,
    site_id: str,
    path: str,
    names: Sequence[str] | None = None,
    leaf_kind: LocationKind | None = None,
    names_en: Sequence[str] | None = None,
) -> Location:
    """The location at `path` in the site, creating missing nodes on the way down.

    Depth one is a building, depth two a floor, deeper nodes units (numeric codes) or
    areas; `leaf_kind` overrides the guess for the last node. `names` and `names_en` are
    the Chinese and English names of the nodes from the top (a node's code when missing).
    """
    codes = split_path(path)
    parent: Location | None = None
    for depth, code in enumerate(codes):
        node_path = "/".join(codes[: depth + 1])
        node = session.scalar(
            select(Location).where(Location.site_id == site_id, Location.path == node_path)
        )
        if node is None:
            last = depth == len(codes) - 1
            if last and leaf_kind is not None:
                kind = leaf_kind
            elif depth < len(_LEVELS):
                kind = _LEVELS[depth]
            else:
                kind = LocationKind.unit if code.isdigit() else LocationKind.area
            name = names[depth] if names and depth < len(names) else code
            name_en = names_en[depth] if names_en and depth < len(names_en) else ""
            node = Location(
                site_id=site_id,
                parent_id=parent.id if parent else None,
                kind=kind,
                code=code,
                name=name,
                name_en=name_en,
                path=node_path,
            )
            session.add(node)
            session.flush()
        parent = node
    assert parent is not None
    return parent


def name_locations(
    *, session: Session, site_id: str, path: str, names: Sequence[str], names_en: Sequence[str]
) -> None:
    """Give the nodes of `path` (from the top) their Chinese and English names; a blank name
    leaves a node's name as it is."""
    codes = split_path(path)
    for depth in range(len(codes)):
        node = session.scalar(
            select(Location).where(
                Location.site_id == site_id, Location.path == "/".join(codes[: depth + 1])
            )
        )
        if node is None:
            continue
        if depth < len(names) and names[depth].strip():
            node.name = names[depth].strip()[:200]
        if depth < len(names_en) and names_en[depth].strip():
            node.name_en = names_en[depth].strip()[:200]


def find_location(*, session: Session, site_id: str, path: str) -> Location:
    """The existing location at `path`, or NotFound."""
    loc = session.scalar(
        select(Location).where(
            Location.site_id == site_id, Location.path == "/".join(split_path(path))
        )
    )
    if loc is None:
        raise NotFound(f"no location {path!r} in site {site_id!r}")
    return loc


def add_owner(
    *,
    session: Session,
    site_id: str,
    name: str,
    phone: str | None,
    unit_path: str | None,
    now: datetime,
) -> Owner:
    """Register an owner or resident, optionally in a unit."""
    unit = ensure_location(session=session, site_id=site_id, path=unit_path) if unit_path else None
    owner = Owner(site_id=site_id, name=name, phone=phone, unit=unit, created_at=now)
    session.add(owner)
    session.flush()
    return owner


def add_device(
    *,
    session: Session,
    device_id: str,
    site_id: str,
    kind: DeviceKind,
    now: datetime,
    name: str = "",
    name_en: str = "",
    location_path: str | None = None,
    external_topic: str | None = None,
    adapter: str | None = None,
    external_id: str | None = None,
    heartbeat_timeout_s: int | None = None,
    installed_on: date | None = None,
) -> Device:
    """Register a device; its location nodes are created if missing."""
    location = (
        ensure_location(session=session, site_id=site_id, path=location_path)
        if location_path
        else None
    )
    device = Device(
        id=device_id,
        site_id=site_id,
        kind=kind,
        name=name,
        name_en=name_en,
        location=location,
        external_topic=external_topic,
        adapter=adapter,
        external_id=external_id,
        heartbeat_timeout_s=heartbeat_timeout_s or DEFAULT_HEARTBEAT_S[kind],
        installed_on=installed_on,
        created_at=now,
    )
    session.add(device)
    session.flush()
    return device


def device_names(*, session: Session, device_ids: Collection[str]) -> dict[str, tuple[str, str]]:
    """The Chinese and English names of these devices, by id."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(Device.id, Device.name, Device.name_en).where(Device.id.in_(list(device_ids)))
    )
    return {row.id: (row.name, row.name_en) for row in rows}


def get_device(*, session: Session, device_id: str, site_ids: frozenset[str]) -> Device:
    """The device with this id, if it is in one of `site_ids`."""
    device = session.get(Device, device_id)
    if device is None or device.site_id not in site_ids:
        raise NotFound(f"device {device_id!r} not found")
    return device


def top_locations(*, session: Session, site_ids: Collection[str]) -> Sequence[Location]:
    """The first level of the sites' location trees (buildings and other top places)."""
    query = select(Location).where(
        Location.site_id.in_(sorted(site_ids)), Location.parent_id.is_(None)
    )
    return session.scalars(query.order_by(Location.site_id, Location.path)).all()


def list_devices(
    *,
    session: Session,
    site_ids: frozenset[str],
    site: str | None = None,
    kinds: Collection[DeviceKind] = (),
    statuses: Collection[DeviceStatus] = (),
    location: str | None = None,
) -> Sequence[Device]:
    """Devices in the caller's sites, optionally filtered (a filter's values are or-ed).

    `location` is a path prefix in whole codes: `3/12` matches 3/12 and 3/12/pipe-well,
    not 3/120.
    """
    query = select(Device).where(Device.site_id.in_(site_ids))
    if site is not None:
        query = query.where(Device.site_id == site)
    if kinds:
        query = query.where(Device.kind.in_(sorted(kinds)))
    if statuses:
        query = query.where(Device.status.in_(sorted(statuses)))
    if location is not None:
        prefix = "/".join(split_path(location))
        below = Location.path.startswith(f"{prefix}/", autoescape=True)
        query = query.join(Location, Device.location_id == Location.id).where(
            or_(Location.path == prefix, below)
        )
    return session.scalars(query.order_by(Device.site_id, Device.id)).all()
