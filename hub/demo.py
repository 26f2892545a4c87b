"""The demo site 阳光花园 Sunshine Garden: its location tree, devices, owners and users."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devices.simulator import Simulator
from hub.alarms.rules import RuleBook
from hub.auth.enums import Role
from hub.auth.models import User
from hub.auth.service import create_user, issue_token
from hub.clock import Clock
from hub.db import session_scope
from hub.inspections import service as inspections
from hub.inspections.enums import Item, State
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Site
from hub.registry.service import add_device, add_owner, ensure_location, get_or_create_site
from hub.signals.models import DeviceState

logger = logging.getLogger(__name__)

DEMO_SITE = "sunshine-garden"
DEMO_SITE_NAME = "阳光花园 Sunshine Garden"
BUILDINGS = 3
FLOORS = 18

# Fixed, well-known tokens: the demo is for trying the hub out, never for production data.
DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("desk-li", Role.front_desk, "fh_demo_front_desk"),
    ("eng-wang", Role.engineer, "fh_demo_engineer"),
    ("eng-head-liu", Role.engineer, "fh_demo_engineering_head"),
    ("clean-zhao", Role.cleaner, "fh_demo_cleaner"),
    ("guard-chen", Role.security, "fh_demo_security"),
    ("mgr-zhang", Role.manager, "fh_demo_manager"),
    ("admin", Role.admin, "fh_demo_admin"),
)

HEADS = frozenset({"eng-head-liu"})
"""Demo users who head their department (they dispatch its orders on `/dispatch`)."""
PATROL_ROUTE = "会所卫生间 Clubhouse restrooms"

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
    _patrol_route(session, now)
    for name, phone, unit in OWNERS:
        add_owner(
            session=session, site_id=DEMO_SITE, name=name, phone=phone, unit_path=unit, now=now
        )
    for name, role, token in DEMO_USERS:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = create_user(
                session=session, name=name, role=role, site_ids=[DEMO_SITE], now=now,
                department_head=name in HEADS,
            )  # fmt: skip
            issue_token(session=session, user=user, pepper=pepper, now=now, token=token)
    session.flush()
    return DemoSeed(created=True, tokens=tokens)


def _patrol_route(session: Session, now: datetime) -> None:
    """The cleaners' round of the clubhouse restrooms, every two hours."""
    inspections.create_route(
        session=session,
        site_id=DEMO_SITE,
        name=PATROL_ROUTE,
        interval_minutes=120,
        grace_minutes=15,
        stops=[
            inspections.Stop([Item.paper, Item.soap, Item.towel], path, None)
            for _id, path, _name in RESTROOMS
        ],
        actor="demo",
        now=now,
    )


PATROL_INSPECTOR = "clean-zhao 保洁赵"
PATROL_AFTER_EMPTY = timedelta(seconds=30)
"""How long after the dispenser reads empty the demo's cleaner logs it as fine."""


class DemoPatrol:
    """The demo's case 1 (DOMAIN.md): a patrol log that says the paper box was fine.

    When the simulators empty a restroom's paper box (the scripted `paper` fault), the
    demo's cleaner writes, half a minute after the dispenser read empty, that the box was
    `ok`: the cross-check flags the entry against the sensor, and the manager finds it in
    `GET /api/v1/inspections/discrepancies` and in the evidence of any complaint there.
    """

    def __init__(self, sessions: sessionmaker[Session], *, zone: tzinfo, rules: RuleBook) -> None:
        self.sessions = sessions
        self.zone = zone
        self.rules = rules
        self.logged: set[str] = set()

    def check(self, *, faulted: Iterable[str], now: datetime) -> list[int]:
        """Log a contradicting entry for each faulted dispenser found empty; their ids."""
        made: list[int] = []
        with session_scope(self.sessions) as session:
            for device_id in sorted(set(faulted) - self.logged):
                state = session.get(DeviceState, device_id)
                if state is None or state.state_ts is None:
                    continue
                if state.state.get("paper_pct", 100) > 0 or now - state.state_ts < timedelta(0):
                    continue
                if now - state.state_ts > PATROL_AFTER_EMPTY * 4:
                    continue  # the box was refilled and emptied long ago: not this round
                entry = inspections.Entry(
                    site_id=DEMO_SITE,
                    inspector=PATROL_INSPECTOR,
                    observed_at=now,
                    items=[(Item.paper, State.ok, "巡查正常 all fine")],
                    device_id=device_id,
                    source="demo",
                )
                logged = inspections.record(
                    session=session,
                    entry=entry,
                    actor=PATROL_INSPECTOR,
                    now=now,
                    zone=self.zone,
                    rules=self.rules,
                )
                self.logged.add(device_id)
                made.append(logged.id)
        return made

    def run(self, simulator: Simulator, clock: Clock, stop: threading.Event) -> None:
        """Watch the simulators' faults until `stop`; log each emptied box once."""
        while not stop.wait(PATROL_AFTER_EMPTY.total_seconds()):
            faulted = [d for step, d in simulator.started if step.fault == "paper"]
            try:
                self.check(faulted=faulted, now=clock.now())
            except Exception:  # noqa: BLE001 - the demo's patrol never stops the demo
                logger.exception("demo patrol failed")
