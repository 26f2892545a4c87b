"""The demo site 阳光花园 Sunshine Garden: its location tree, devices, owners and users."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

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
DEMO_SITE_NAME = ("阳光花园", "Sunshine Garden")
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
    ("gate-north", "north-gate", ("北门道闸", "North entrance barrier")),
    ("gate-south", "south-gate", ("南门道闸", "South entrance barrier")),
    ("gate-garage", "garage/entrance", ("车库入口道闸", "Garage entrance barrier")),
)

RESTROOMS = (
    ("restroom-club-1f-men", "clubhouse/1/men-restroom", ("会所1楼男卫", "Clubhouse 1F men's")),
    (
        "restroom-club-1f-women",
        "clubhouse/1/women-restroom",
        ("会所1楼女卫", "Clubhouse 1F women's"),
    ),
    ("restroom-club-2f-men", "clubhouse/2/men-restroom", ("会所2楼男卫", "Clubhouse 2F men's")),
    (
        "restroom-club-2f-women",
        "clubhouse/2/women-restroom",
        ("会所2楼女卫", "Clubhouse 2F women's"),
    ),
)

PLACES: dict[str, tuple[str, str]] = {
    "north-gate": ("北门", "North gate"),
    "south-gate": ("南门", "South gate"),
    "garage": ("车库", "Garage"),
    "entrance": ("入口", "Entrance"),
    "clubhouse": ("会所", "Clubhouse"),
    "1": ("1楼", "1F"),
    "2": ("2楼", "2F"),
    "men-restroom": ("男卫生间", "Men's restroom"),
    "women-restroom": ("女卫生间", "Women's restroom"),
}
"""The names of the demo's areas (and the clubhouse's floors) in Chinese and English."""

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


def _buildings(session: Session, now: datetime) -> None:
    """The residential buildings: each floor's corridor light and pipe-well leak sensor,
    every level named in Chinese and English."""
    for b in range(1, BUILDINGS + 1):
        for f in range(1, FLOORS + 1):
            names, names_en = [f"{b}号楼", f"{f}层"], [f"Building {b}", f"Floor {f}"]
            floor = ensure_location(
                session=session,
                site_id=DEMO_SITE,
                path=f"{b}/{f}",
                names=names,
                names_en=names_en,
            )
            well = ensure_location(
                session=session,
                site_id=DEMO_SITE,
                path=f"{b}/{f}/pipe-well",
                names=[*names, "管井"],
                names_en=[*names_en, "Pipe well"],
                leaf_kind=LocationKind.area,
            )
            add_device(
                session=session,
                device_id=light_id(b, f),
                site_id=DEMO_SITE,
                kind=DeviceKind.light,
                name=f"{b}号楼{f}层走廊灯",
                name_en=f"Corridor light B{b} F{f}",
                location_path=floor.path,
                now=now,
            )
            add_device(
                session=session,
                device_id=leak_id(b, f),
                site_id=DEMO_SITE,
                kind=DeviceKind.leak,
                name=f"{b}号楼{f}层管井漏水",
                name_en=f"Pipe-well leak B{b} F{f}",
                location_path=well.path,
                now=now,
            )


def seed_demo(*, session: Session, now: datetime, pepper: str) -> DemoSeed:
    """Create the demo site, devices, owners and users if the site is missing."""
    tokens = {name: token for name, _role, token in DEMO_USERS}
    if session.get(Site, DEMO_SITE) is not None:
        return DemoSeed(created=False, tokens=tokens)
    get_or_create_site(
        session=session,
        site_id=DEMO_SITE,
        name=DEMO_SITE_NAME[0],
        name_en=DEMO_SITE_NAME[1],
        now=now,
    )
    _buildings(session, now)
    for device_id, path, (name, name_en) in GATES:
        _area(session, path)
        add_device(
            session=session,
            device_id=device_id,
            site_id=DEMO_SITE,
            kind=DeviceKind.gate,
            name=name,
            name_en=name_en,
            location_path=path,
            now=now,
        )
    for device_id, path, (name, name_en) in RESTROOMS:
        _area(session, path)
        add_device(
            session=session,
            device_id=device_id,
            site_id=DEMO_SITE,
            kind=DeviceKind.restroom,
            name=name,
            name_en=name_en,
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


def _area(session: Session, path: str) -> None:
    """An area of the demo (a gate, a restroom) with every node's names in both languages."""
    codes = path.split("/")
    ensure_location(
        session=session,
        site_id=DEMO_SITE,
        path=path,
        names=[PLACES.get(c, (c, c))[0] for c in codes],
        names_en=[PLACES.get(c, (c, c))[1] for c in codes],
        leaf_kind=LocationKind.area,
    )


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


DISPUTE_AFTER = timedelta(seconds=20)
"""How long after the booth button came down on a car its driver complains at the desk."""
DISPUTE_COMPLAINT = {
    "content": "车库入口道闸落杆砸到我的车挡风玻璃,要求物业赔偿",
    "location": "garage/entrance",
    "channel": "visit",
    "complainant_name": "车主 周先生",
    "complainant_phone": "13800138024",
}


class DemoDispute:
    """The demo's case 2 (DOMAIN.md): the driver whose windshield the arm hit complains.

    When the simulators press a gate's booth button onto a car (the scripted
    `button_on_car` fault), the desk files the driver's complaint at that gate's place; its
    dispute page (`/manager/disputes/{id}`) opens with the finding that settles it.
    """

    def __init__(self, post: Callable[[dict[str, Any]], int]) -> None:
        self.post = post
        self.filed: int | None = None

    def check(self, *, pressed_at: datetime | None, now: datetime) -> int | None:
        """File the complaint once, `DISPUTE_AFTER` the press; its id."""
        if self.filed is None and pressed_at is not None and now - pressed_at >= DISPUTE_AFTER:
            self.filed = self.post(DISPUTE_COMPLAINT)
        return self.filed

    def run(self, simulator: Simulator, clock: Clock, stop: threading.Event, base: str) -> None:
        """Watch the simulators until the press, file the complaint, say where to look."""
        pressed_at: datetime | None = None
        while self.filed is None and not stop.wait(5):
            if pressed_at is None and any(
                step.fault == "button_on_car" for step, _d in simulator.started
            ):
                pressed_at = clock.now()
            try:
                filed = self.check(pressed_at=pressed_at, now=clock.now())
            except Exception:  # noqa: BLE001 - the demo's desk never stops the demo
                logger.exception("demo dispute failed")
                return
            if filed is not None:
                logger.info("the gate's dispute: %s/manager/disputes/%s", base, filed)


def desk_post(base: str, token: str) -> Callable[[dict[str, Any]], int]:
    """A complaint filed at the hub's API as the demo's front desk; its id."""

    def post(body: dict[str, Any]) -> int:
        import httpx

        answer = httpx.post(
            f"{base}/api/v1/complaints",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        answer.raise_for_status()
        return int(answer.json()["id"])

    return post
