"""The demo site 阳光花园 Sunshine Garden: its location tree, devices, owners and users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.auth.models import User
from hub.auth.service import create_user, issue_token
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Site
from hub.registry.service import add_device, add_owner, ensure_location, get_or_create_site

DEMO_SITE = "sunshine-garden"
DEMO_SITE_NAME = "阳光花园 Sunshine Garden"
BUILDINGS = 3
FLOORS = 18

# Fixed, well-known tokens: the demo is for trying the hub out, never for production data.
DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("desk-li", Role.front_desk, "fh_demo_front_desk"),
    ("eng-wang", Role.engineer, "fh_demo_engineer"),
    ("clean-zhao", Role.cleaner, "fh_demo_cleaner"),
    ("guard-chen", Role.security, "fh_demo_security"),
    ("mgr-zhang", Role.manager, "fh_demo_manager"),
    ("admin", Role.admin, "fh_demo_admin"),
)

GATES = (
    ("gate-north", "north-gate", "北门道闸 North entrance barrier"),
    ("gate-south", "south-gate", "南门道闸 South entrance barrier"),
    ("gate-garage", "garage/entrance", "车库入口道闸 Garage entrance barrier"),
)

RESTROOMS = (
    ("restroom-club-1f-men", "clubhouse/1/men-restroom", "会所1楼男卫 Clubhouse 1F men's"),
    ("restroom-club-1f-women", "clubhouse/1/women-restroom", "会所1楼女卫 Clubhouse 1F women's"),
    ("restroom-club-2f-men", "clubhouse/2/men-restroom", "会所2楼男卫 Clubhouse 2F men's"),
    ("restroom-club-2f-women", "clubhouse/2/women-restroom", "会所2楼女卫 Clubhouse 2F women's"),
)

OWNERS = (
    ("王女士 Ms Wang", "13800000001", "3/12/1201"),
    ("李先生 Mr Li", "13800000002", "2/3/301"),
    ("张先生 Mr Zhang", "13800000003", "1/8/802"),
)


@dataclass(frozen=True)
class DemoSeed:
    """What seeding did: whether the site was new, and the demo tokens."""

    created: bool
    tokens: dict[str, str]


def light_id(building: int, floor: int) -> str:
    """The corridor light of a floor."""
    return f"light-b{building}-f{floor:02d}"


def leak_id(building: int, floor: int) -> str:
    """The leak sensor in a floor's pipe well."""
    return f"leak-b{building}-f{floor:02d}"


def demo_devices() -> list[tuple[DeviceKind, str]]:
    """Every device of the demo site as (kind, id), for the simulators."""
    devices: list[tuple[DeviceKind, str]] = []
    for b in range(1, BUILDINGS + 1):
        for f in range(1, FLOORS + 1):
            devices += [(DeviceKind.light, light_id(b, f)), (DeviceKind.leak, leak_id(b, f))]
    devices += [(DeviceKind.gate, device_id) for device_id, _path, _name in GATES]
    devices += [(DeviceKind.restroom, device_id) for device_id, _path, _name in RESTROOMS]
    return devices


def seed_demo(*, session: Session, now: datetime, pepper: str) -> DemoSeed:
    """Create the demo site, devices, owners and users if the site is missing."""
    tokens = {name: token for name, _role, token in DEMO_USERS}
    if session.get(Site, DEMO_SITE) is not None:
        return DemoSeed(created=False, tokens=tokens)
    get_or_create_site(session=session, site_id=DEMO_SITE, name=DEMO_SITE_NAME, now=now)
    for b in range(1, BUILDINGS + 1):
        for f in range(1, FLOORS + 1):
            names = [f"{b}号楼 Building {b}", f"{f}层 Floor {f}"]
            floor = ensure_location(
                session=session, site_id=DEMO_SITE, path=f"{b}/{f}", names=names
            )
            well = ensure_location(
                session=session,
                site_id=DEMO_SITE,
                path=f"{b}/{f}/pipe-well",
                names=[*names, "管井 Pipe well"],
                leaf_kind=LocationKind.area,
            )
            add_device(
                session=session,
                device_id=light_id(b, f),
                site_id=DEMO_SITE,
                kind=DeviceKind.light,
                name=f"{b}号楼{f}层走廊灯 Corridor light B{b} F{f}",
                location_path=floor.path,
                now=now,
            )
            add_device(
                session=session,
                device_id=leak_id(b, f),
                site_id=DEMO_SITE,
                kind=DeviceKind.leak,
                name=f"{b}号楼{f}层管井漏水 Pipe-well leak B{b} F{f}",
                location_path=well.path,
                now=now,
            )
    for device_id, path, name in GATES:
        ensure_location(session=session, site_id=DEMO_SITE, path=path, leaf_kind=LocationKind.area)
        add_device(
            session=session,
            device_id=device_id,
            site_id=DEMO_SITE,
            kind=DeviceKind.gate,
            name=name,
            location_path=path,
            now=now,
        )
    for device_id, path, name in RESTROOMS:
        ensure_location(session=session, site_id=DEMO_SITE, path=path, leaf_kind=LocationKind.area)
        add_device(
            session=session,
            device_id=device_id,
            site_id=DEMO_SITE,
            kind=DeviceKind.restroom,
            name=name,
            location_path=path,
            now=now,
        )
    for name, phone, unit in OWNERS:
        add_owner(
            session=session, site_id=DEMO_SITE, name=name, phone=phone, unit_path=unit, now=now
        )
    for name, role, token in DEMO_USERS:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = create_user(session=session, name=name, role=role, site_ids=[DEMO_SITE], now=now)
            issue_token(session=session, user=user, pepper=pepper, now=now, token=token)
    session.flush()
    return DemoSeed(created=True, tokens=tokens)
