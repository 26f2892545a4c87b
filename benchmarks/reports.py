"""The reports cell: how long each report takes over a year of a big site.

A site of `devices` (a corridor light and a pipe-well leak sensor per floor) with a year of
history is written with bulk inserts: `orders` work orders (engineering, cleaning,
security; their dispatch, on-site, resolve and callback deadlines, 10 % breached, 5 % held
with their hold events, 1 % still open; the sensor ones with their alarm), `complaints`
complaints (their callback deadlines; one in five linked to an order). Then every report is
built over the whole year, `samples` times each, and the build plus its JSON document is
timed: what `GET /reports/{name}` does before it answers.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from benchmarks.correlation import FLOORS, SITE, _registry
from benchmarks.rows import complaint_row
from hub.alarms.models import Alarm
from hub.complaints.models import Complaint, ComplaintDeadline, ComplaintWorkOrder
from hub.reports import flows
from hub.reports.enums import ReportName
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent

ZONE = ZoneInfo("Asia/Shanghai")
CHUNK = 20_000
DEPARTMENTS = ("engineering",) * 12 + ("cleaning",) * 5 + ("security",) * 3
PRIORITIES = ("urgent", "high", "normal", "normal", "low")
STEP_MINUTES = {"dispatch": 15, "on_site": 120, "resolve": 1440, "callback": 120}


@dataclass(frozen=True)
class Size:
    """How big the history is, and how many times each report is built."""

    devices: int
    orders: int
    complaints: int
    samples: int

    @classmethod
    def make(cls, quick: bool) -> Size:
        """The issue's size (a year of 2,000 devices, 100,000 orders, 50,000 complaints), or a
        small one for `--quick`."""
        if quick:
            return cls(200, 5_000, 2_500, 3)
        return cls(2_000, 100_000, 50_000, 7)


def _write(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[start : start + CHUNK])


def _deadlines(
    order_id: int, created: datetime, rng: random.Random, *, open_: bool
) -> tuple[list[dict[str, Any]], datetime]:
    """An order's deadlines, met (10 % late, hence breached) unless it is still open."""
    rows, at = [], created
    for step, minutes in STEP_MINUTES.items():
        started = at if step == "callback" else created
        due = started + timedelta(minutes=minutes)
        late = rng.random() < 0.1
        met = (
            None
            if open_
            else started + timedelta(minutes=minutes * (1.5 if late else rng.random()))
        )
        rows.append(
            {
                "work_order_id": order_id,
                "step": step,
                "cycle": 0,
                "started_at": started,
                "due_at": due,
                "met_at": met,
                "breached_at": due if (late and met is not None) else None,
            }
        )
        if met is not None and step == "resolve":
            at = met
    return rows, at


def _hold_events(n: int, start: datetime, hold_s: int) -> list[dict[str, Any]]:
    """An order's hold and its resumption, `hold_s` later."""
    return [
        {
            "work_order_id": n,
            "at": at,
            "actor": "bench",
            "action": "moved",
            "from_status": frm,
            "to_status": to,
            "note": "等配件 waiting for parts" if to == "on_hold" else "",
        }
        for at, frm, to in (
            (start, "dispatched", "on_hold"),
            (start + timedelta(seconds=hold_s), "on_hold", "dispatched"),
        )
    ]


def _alarm_row(n: int, device: str, light: bool, created: datetime) -> dict[str, Any]:
    """The alarm that opened sensor order `n`, cleared an hour later."""
    return {
        "site_id": SITE,
        "device_id": device,
        "type": "lamp_failure" if light else "leak_detected",
        "severity": "major",
        "title": "bench",
        "raised_at": created - timedelta(seconds=30),
        "last_seen_at": created,
        "count": 1,
        "detail": {},
        "reopen_count": n,
        "flapping": False,
        "flap_window_start": created,
        "flap_changes": 1,
        "cleared_at": created + timedelta(hours=1),
        "work_order_id": n,
    }


def _orders(
    engine: Engine, paths: dict[str, int], floors: list[tuple[int, int]], size: Size, now: datetime
) -> None:
    rng = random.Random(5)
    orders: list[dict[str, Any]] = []
    deadlines: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    alarms: list[dict[str, Any]] = []
    for n in range(1, size.orders + 1):
        b, f = floors[rng.randrange(len(floors))]
        created = now - timedelta(minutes=rng.randrange(365 * 1440))
        open_ = rng.random() < 0.01
        held = rng.random() < 0.05
        sensor = rng.random() < 0.4
        light = rng.random() < 0.6
        rows, resolved = _deadlines(n, created, rng, open_=open_)
        deadlines += rows
        hold_s = 0
        if held:
            hold_s = 3600 * (1 + rng.randrange(48))
            events += _hold_events(n, created + timedelta(minutes=20), hold_s)
        device = f"light-b{b}-f{f}" if light else f"leak-b{b}-f{f}"
        orders.append(
            {
                "id": n,
                "site_id": SITE,
                "status": ("on_hold" if held else "dispatched") if open_ else "closed",
                "device_id": device,
                "location_id": paths[f"{b}/{f}"],
                "source": "sensor" if sensor else "complaint",
                "department": DEPARTMENTS[n % len(DEPARTMENTS)],
                "priority": PRIORITIES[n % len(PRIORITIES)],
                "title": f"{b}号楼{f}层 bench",
                "description": "",
                "created_by": "bench",
                "created_at": created,
                "updated_at": resolved,
                "closed_at": None if open_ else resolved + timedelta(minutes=30),
                "hold_total_s": hold_s,
                "hold_reason": "等配件 waiting for parts" if open_ and held else None,
                "hold_started_at": created if open_ and held else None,
                "held_from": "dispatched" if open_ and held else None,
                "reopen_count": 0,
                "escalation_level": int(any(r["breached_at"] for r in rows)),
            }
        )
        if sensor:
            alarms.append(_alarm_row(n, device, light, created))
    _write(engine, WorkOrder, orders)
    _write(engine, Deadline, deadlines)
    _write(engine, WorkOrderEvent, events)
    _write(engine, Alarm, alarms)


def _complaints(
    engine: Engine, paths: dict[str, int], floors: list[tuple[int, int]], size: Size, now: datetime
) -> None:
    rng = random.Random(6)
    rows: list[dict[str, Any]] = []
    callbacks: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    categories = ("facility",) * 6 + ("sanitation", "security_order", "fees", "service_attitude")
    for n in range(1, size.complaints + 1):
        b, f = floors[rng.randrange(len(floors))]
        at = now - timedelta(minutes=rng.randrange(365 * 1440))
        open_ = rng.random() < 0.01
        category = categories[n % len(categories)]
        rows.append(
            complaint_row(
                site=SITE,
                location_id=paths[f"{b}/{f}"],
                at=at,
                content=f"{b}号楼{f}层走廊灯不亮",
                id=n,
                status="investigating" if open_ else "archived",
                kind="complaint" if n % 3 else "repair",
                responsibility="property" if n % 7 else "non_property",
                party=None if n % 7 else "developer",
                category=category,
                device_kinds=["light"] if category == "facility" else [],
                closed_at=None if open_ else at + timedelta(hours=6),
            )
        )
        if not open_:
            started = at + timedelta(hours=4)
            late = rng.random() < 0.05
            callbacks.append(
                {
                    "complaint_id": n,
                    "step": "callback",
                    "cycle": 0,
                    "started_at": started,
                    "due_at": started + timedelta(hours=2),
                    "met_at": started + timedelta(minutes=150 if late else rng.randrange(110)),
                    "breached_at": started + timedelta(hours=2) if late else None,
                }
            )
        if n % 5 == 0:
            links.append(
                {
                    "complaint_id": n,
                    "work_order_id": 1 + rng.randrange(size.orders),
                    "at": at,
                    "actor": "bench",
                }
            )
    _write(engine, Complaint, rows)
    _write(engine, ComplaintDeadline, callbacks)
    _write(engine, ComplaintWorkOrder, links)


def populate(engine: Engine, size: Size, now: datetime) -> None:
    """The site, its year of orders and complaints."""
    floors = _floors_for(size)
    paths = _registry(engine, floors, now)
    _orders(engine, paths, floors, size, now)
    _complaints(engine, paths, floors, size, now)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def _floors_for(size: Size) -> list[tuple[int, int]]:
    """Two devices a floor, `FLOORS` floors a building (the correlation cell's site)."""
    return [(1 + n // FLOORS, 1 + n % FLOORS) for n in range(max(1, size.devices // 2))]


def measure(engine: Engine, size: Size, now: datetime) -> dict[str, list[float]]:
    """Milliseconds per build of each report over the year, `samples` times each."""
    since, until = now - timedelta(days=365), now
    timings: dict[str, list[float]] = {}
    with Session(engine) as session:
        for name in ReportName:
            for _ in range(size.samples):
                started = time.perf_counter()
                report = flows.build(
                    session=session,
                    name=name,
                    site_id=SITE,
                    since=since,
                    until=until,
                    now=now,
                    zone=ZONE,
                )
                report.document()
                timings.setdefault(str(name), []).append((time.perf_counter() - started) * 1000)
                session.rollback()
    return timings


def run(engine: Engine, quick: bool) -> dict[str, Any]:
    """Populate a fresh database, then time every report."""
    size = Size.make(quick)
    now = datetime.now(UTC)
    started = time.perf_counter()
    populate(engine, size, now)
    populate_s = round(time.perf_counter() - started, 1)
    return {"size": size, "populate_s": populate_s, "timings": measure(engine, size, now)}
