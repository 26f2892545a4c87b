"""The correlation cell: how long correlation takes at intake, on a site with a long history.

A site of `devices` (a corridor light and a pipe-well leak sensor per floor), `signals`
over the last 30 days, `alarms` over 60 days (1 % still active, each with its open order;
the rest cleared, their orders closed) and `complaints` over a year is written with bulk
inserts. Then complaints are registered at the desk one at a time, each in its own
transaction rolled back afterwards (so every sample meets the same tables), and the call
to `correlate_complaint` is timed: gathering, scoring, recording the links, attaching.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from benchmarks.rows import complaint_row
from hub.alarms.models import Alarm
from hub.complaints import intake
from hub.complaints.models import Complaint
from hub.correlation.flows import Policies, correlate_complaint
from hub.registry.models import Device, Location, Site
from hub.signals import bulk
from hub.workorders.models import WorkOrder

SITE = "bench-corr"
FLOORS = 50
"""Floors per building; buildings are as many as the devices need (two per floor)."""


@dataclass(frozen=True)
class Size:
    """How big the history is, and how many intakes are timed."""

    signals: int
    devices: int
    alarms: int
    complaints: int
    samples: int

    @classmethod
    def make(cls, quick: bool) -> Size:
        """The issue's size (1M signals, 2,000 devices, 10,000 alarms, 50,000 complaints),
        or a small one for `--quick`."""
        if quick:
            return cls(20_000, 200, 1_000, 2_000, 60)
        return cls(1_000_000, 2_000, 10_000, 50_000, 400)


def _floors(size: Size) -> list[tuple[int, int]]:
    count = max(1, size.devices // 2)
    return [(1 + n // FLOORS, 1 + n % FLOORS) for n in range(count)]


def _registry(engine: Engine, floors: list[tuple[int, int]], now: datetime) -> dict[str, int]:
    """Site, buildings, floors, pipe wells, two units a floor, the devices; path → id."""
    paths: dict[str, int] = {}
    next_id = 1
    rows: list[dict[str, Any]] = []

    def node(path: str, parent: str | None, kind: str) -> None:
        nonlocal next_id
        code = path.rsplit("/", 1)[-1]
        rows.append(
            {
                "id": next_id,
                "site_id": SITE,
                "parent_id": paths.get(parent) if parent else None,
                "kind": kind,
                "code": code,
                "name": code,
                "path": path,
            }
        )
        paths[path] = next_id
        next_id += 1

    for b in sorted({b for b, _f in floors}):
        node(str(b), None, "building")
    for b, f in floors:
        node(f"{b}/{f}", str(b), "floor")
        node(f"{b}/{f}/pipe-well", f"{b}/{f}", "area")
        for unit in (1, 2):
            node(f"{b}/{f}/{f * 100 + unit}", f"{b}/{f}", "unit")
    devices = []
    for b, f in floors:
        for kind, device_id, path in (
            ("light", f"light-b{b}-f{f}", f"{b}/{f}"),
            ("leak", f"leak-b{b}-f{f}", f"{b}/{f}/pipe-well"),
        ):
            devices.append(
                {
                    "id": device_id,
                    "site_id": SITE,
                    "kind": kind,
                    "name": device_id,
                    "location_id": paths[path],
                    "heartbeat_timeout_s": 300,
                    "status": "online",
                    "created_at": now,
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"id": SITE, "name": "基准 Bench", "created_at": now}])
        conn.execute(insert(Location), rows)
        conn.execute(insert(Device), devices)
    return paths


def _signals(engine: Engine, floors: list[tuple[int, int]], size: Size, now: datetime) -> None:
    rng = random.Random(1)
    chunk: list[dict[str, Any]] = []
    with Session(engine) as session:
        for n in range(size.signals):
            b, f = floors[n % len(floors)]
            light = n % 2 == 0
            chunk.append(
                {
                    "device_id": f"light-b{b}-f{f}" if light else f"leak-b{b}-f{f}",
                    "site_id": SITE,
                    "kind": "light" if light else "leak",
                    "channel": "telemetry",
                    "type": None,
                    "ts": now - timedelta(seconds=rng.randrange(30 * 86400)),
                    "received_at": now,
                    "idem_key": f"id:{n}",
                    "payload": {"on": True, "power_w": 9.5} if light else {"leak": False},
                    "prev_digest": "x",
                    "digest": "y",
                }
            )
            if len(chunk) == 50_000:
                bulk.insert_signals(session=session, rows=chunk)
                session.commit()
                chunk = []
        if chunk:
            bulk.insert_signals(session=session, rows=chunk)
        session.commit()


def _alarms(
    engine: Engine, paths: dict[str, int], floors: list[tuple[int, int]], size: Size, now: datetime
) -> None:
    rng = random.Random(2)
    orders: list[dict[str, Any]] = []
    alarms: list[dict[str, Any]] = []
    for n in range(size.alarms):
        b, f = floors[rng.randrange(len(floors))]
        light = rng.random() < 0.6
        active = n % 100 == 0
        raised = (
            now - timedelta(minutes=rng.randrange(60 * 1440))
            if not active
            else now - timedelta(minutes=rng.randrange(600))
        )
        path = f"{b}/{f}" if light else f"{b}/{f}/pipe-well"
        orders.append(
            {
                "id": n + 1,
                "site_id": SITE,
                "status": "open" if active else "closed",
                "device_id": f"light-b{b}-f{f}" if light else f"leak-b{b}-f{f}",
                "location_id": paths[path],
                "source": "sensor",
                "department": "engineering",
                "priority": "high",
                "title": "bench",
                "description": "",
                "created_by": "rules",
                "created_at": raised,
                "updated_at": raised + timedelta(hours=2),
                "closed_at": None if active else raised + timedelta(hours=3),
                "hold_total_s": 0,
                "reopen_count": 0,
                "escalation_level": 0,
            }
        )
        alarms.append(
            {
                "site_id": SITE,
                "device_id": orders[-1]["device_id"],
                "type": f"{'lamp_failure' if light else 'leak_detected'}",
                "severity": "major",
                "title": "bench",
                "raised_at": raised,
                "last_seen_at": raised,
                "count": 1,
                "detail": {},
                "reopen_count": n,  # distinct rows for the one-uncleared-per-type index
                "flapping": False,
                "flap_window_start": raised,
                "flap_changes": 1,
                "cleared_at": None if active else raised + timedelta(hours=1),
                "work_order_id": n + 1,
            }
        )
    seen: set[tuple[object, object]] = set()
    for alarm in alarms:  # at most one uncleared alarm per (device, type)
        key = (alarm["device_id"], alarm["type"])
        if alarm["cleared_at"] is None and key in seen:
            alarm["cleared_at"] = alarm["raised_at"] + timedelta(minutes=5)
        elif alarm["cleared_at"] is None:
            seen.add(key)
    with engine.begin() as conn:
        conn.execute(insert(WorkOrder), orders)
        conn.execute(insert(Alarm), alarms)


def _complaints(
    engine: Engine, paths: dict[str, int], floors: list[tuple[int, int]], size: Size, now: datetime
) -> None:
    rng = random.Random(3)
    rows: list[dict[str, Any]] = []
    for _n in range(size.complaints):
        b, f = floors[rng.randrange(len(floors))]
        at = now - timedelta(minutes=rng.randrange(365 * 1440))
        rows.append(
            complaint_row(
                site=SITE,
                location_id=paths[f"{b}/{f}"],
                at=at,
                content=f"{b}号楼{f}层走廊灯不亮",
                status="archived" if at < now - timedelta(days=3) else "received",
            )
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(Complaint), rows[start : start + 10_000])


def populate(engine: Engine, size: Size, now: datetime) -> list[tuple[int, int]]:
    """Write the site's history; the floors it has."""
    floors = _floors(size)
    paths = _registry(engine, floors, now)
    _signals(engine, floors, size, now)
    _alarms(engine, paths, floors, size, now)
    _complaints(engine, paths, floors, size, now)
    return floors


TEXTS = (
    "{b}号楼{f}层走廊灯坏了，晚上很黑",
    "{b}号楼{f}层管井漏水",
    "The corridor lights on floor {f} of building {b} are out",
    "{b}号楼{f}层楼上装修太吵了",
)


def measure(
    engine: Engine, floors: list[tuple[int, int]], size: Size, now: datetime
) -> list[float]:
    """Milliseconds of `correlate_complaint` for each sample intake."""
    rng = random.Random(4)
    policies = Policies()
    timings = []
    with Session(engine) as session:
        for n in range(size.samples):
            b, f = floors[rng.randrange(len(floors))]
            text = TEXTS[n % len(TEXTS)].format(b=b, f=f)
            entry = intake.Intake(site_id=SITE, content=text, complainant_phone=f"139{n:08d}")
            complaint = intake.register(
                session=session,
                policy=policies.complaints,
                intake=entry,
                actor="bench",
                actor_id=None,
                now=now,
            )
            started = time.perf_counter()
            correlate_complaint(session=session, complaint=complaint, policies=policies, now=now)
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return timings


def run(engine: Engine, quick: bool) -> dict[str, Any]:
    """Populate a fresh database and time correlation at intake on it."""
    size = Size.make(quick)
    now = datetime.now(UTC)
    started = time.monotonic()
    floors = populate(engine, size, now)
    populated = time.monotonic() - started
    timings = measure(engine, floors, size, now)
    return {
        "timings": sorted(timings),
        "size": size,
        "populate_s": round(populated, 1),
        "run": uuid.uuid4().hex[:6],
    }
