"""Web cells: server time per page, and live-stream delivery from commit to 200 streams.

`page_p95_ms`: every page of each role, served in process (no network, so the figure is
the server's time: the page, the API calls it makes, rendering) on the demo site
(115 devices), and `page_10k_p95_ms` with 10,000 devices, where the engineer's grid shows
one building, or one floor of it. `ledger_p95_ms`: the desk's ledger (newest page, a deep
page, words, phone, unit, filters, a period) with 50,000 complaints, beside the cheapest
signed-in request (`GET /api/v1/me`) timed in the same run, as a ratio: on a busy machine
the ratio says more than the milliseconds. `sse_p95_ms`: 200
streams open on `fhub serve` (its own
process, as in production), a work order opened and committed now and then by another
process; from each commit to its event arriving on each stream.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from benchmarks.plan import percentile
from benchmarks.rows import complaint_row
from benchmarks.services import fhub, free_port, wait_port
from hub import migrate
from hub.app import create_app
from hub.clock import SystemClock
from hub.complaints.models import Complaint
from hub.db import make_engine, session_factory, session_scope
from hub.demo import DEMO_SITE, seed_demo
from hub.registry.models import Device, Location
from hub.registry.service import ensure_location
from hub.settings import Settings
from hub.wiring import wire
from hub.workorders import service as orders
from hub.workorders.enums import Department, Source
from hub.workorders.policy import SlaPolicy

PEPPER = "bench-web-pepper-0123456789"
PAGES: dict[str, list[str]] = {
    "fh_demo_engineer": ["/engineer", "/engineer/grid?building=3", "/engineer/orders",
                         "/engineer/devices/light-b3-f12"],
    "fh_demo_front_desk": ["/desk", "/desk/queue", "/desk/lookup?content=3号楼12层灯不亮"],
    "fh_demo_manager": ["/manager"],
}  # fmt: skip
STREAMS = 200


def _settings(workdir: Path) -> Settings:
    return Settings(data_dir=workdir, token_pepper=PEPPER)


def _seed(engine: Engine, settings: Settings) -> None:
    migrate.upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        seed_demo(session=session, now=SystemClock().now(), pepper=PEPPER)


def _grow(engine: Engine, buildings: int, floors: int, per_floor: int) -> int:
    """Add devices until the site holds buildings × floors × per_floor more of them."""
    now = SystemClock().now()
    rows = []
    with session_scope(session_factory(engine)) as session:
        for b in range(1, buildings + 1):
            for f in range(1, floors + 1):
                loc = ensure_location(session=session, site_id=DEMO_SITE, path=f"x{b}/{f}")
                for n in range(per_floor):
                    rows.append({"id": f"dev-x{b}-f{f}-{n}", "site_id": DEMO_SITE, "kind": "light",
                                 "name": f"X{b} {f}F #{n}", "location_id": loc.id,
                                 "heartbeat_timeout_s": 600, "status": "online",
                                 "created_at": now})  # fmt: skip
        session.execute(insert(Device), rows)
    return len(rows)


def _time_pages(client: TestClient, pages: dict[str, list[str]], rounds: int) -> dict[str, Any]:
    """Per page: p95 of `rounds` requests after a warm-up one."""
    per: dict[str, float] = {}
    every: list[float] = []
    for token, paths in pages.items():
        headers = {"Authorization": f"Bearer {token}"}
        for path in paths:
            assert client.get(path, headers=headers).status_code == 200, path
            took = []
            for _ in range(rounds):
                start = time.perf_counter()
                response = client.get(path, headers=headers)
                took.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, path
            per[path] = round(percentile(took, 95), 1)
            every += took
    return {"p95": round(percentile(every, 95), 1), "pages": per}


LEDGER_PAGES = [
    "/desk/complaints",
    "/desk/complaints?page=40",
    "/desk/complaints?q=漏水",
    "/desk/complaints?phone=13800001234",
    "/desk/complaints?unit=2/7/701",
    "/desk/complaints?status=resolved&category=facility&channel=visit",
    "/desk/complaints?since=2026-01-01&until=2026-06-30",
]
"""The ledger as the desk uses it: the newest page, a deep page, words, a phone, a unit,
filters, a period."""
WORDS = ("走廊灯不亮", "管井漏水", "电梯坏了", "门口有垃圾", "道闸抬不起来", "楼上漏水到我家")


def _complaints(engine: Engine, count: int) -> int:
    """`count` complaints over a year, at the demo's floors, from a few thousand phones."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(session_factory(engine)) as session:
        floors = [
            (loc.id, loc.path)
            for loc in session.scalars(
                select(Location).where(Location.site_id == DEMO_SITE, Location.kind == "floor")
            )
        ]
        rows = []
        for n in range(count):
            loc_id, path = floors[n % len(floors)]
            rows.append(
                complaint_row(
                    site=DEMO_SITE,
                    location_id=loc_id,
                    at=start + timedelta(minutes=10 * n),
                    content=f"{path} {WORDS[n % len(WORDS)]} #{n}",
                    complainant_name=f"业主{n % 997}",
                    complainant_phone=f"1380000{n % 5000:04d}",
                    unit_text=f"{path}/{n % 9 + 1:02d}",
                    status=("received", "resolved", "archived")[n % 3],
                    channel=("phone", "visit", "online")[n % 3],
                )
            )
            if len(rows) == 5000:
                session.execute(insert(Complaint), rows)
                rows = []
        if rows:
            session.execute(insert(Complaint), rows)
    return count


def ledger_cell(quick: bool) -> dict[str, Any]:
    """Server time of the desk's ledger with 50,000 complaints (5,000 when quick)."""
    rounds = 3 if quick else 30
    with tempfile.TemporaryDirectory(prefix="fhub-ledger-") as tmp:
        workdir = Path(tmp)
        engine = make_engine(f"sqlite:///{workdir / 'hub.db'}")
        settings = _settings(workdir)
        _seed(engine, settings)
        count = _complaints(engine, 5_000 if quick else 50_000)
        with TestClient(create_app(settings, engine=engine)) as client:
            base = _time_pages(client, {"fh_demo_front_desk": ["/api/v1/me"]}, rounds)
            timed = _time_pages(client, {"fh_demo_front_desk": LEDGER_PAGES}, rounds)
        engine.dispose()
    return {
        "ledger_p95_ms": timed["p95"],
        "ledger_ms_by_page": timed["pages"],
        "ledger_complaints": count,
        "ledger_baseline_me_p95_ms": base["p95"],
        "ledger_vs_me_ratio": round(timed["p95"] / base["p95"], 2) if base["p95"] else None,
    }


def pages_cell(quick: bool) -> dict[str, Any]:
    """Server time per page on the demo site, then with 10,000 devices."""
    rounds = 3 if quick else 40
    with tempfile.TemporaryDirectory(prefix="fhub-web-") as tmp:
        workdir = Path(tmp)
        engine = make_engine(f"sqlite:///{workdir / 'hub.db'}")
        settings = _settings(workdir)
        _seed(engine, settings)
        with TestClient(create_app(settings, engine=engine)) as client:
            demo = _time_pages(client, PAGES, rounds)
            added = _grow(engine, 20, 25, 20)
            big = {
                "fh_demo_engineer": ["/engineer?building=x7", "/engineer?building=x7&floor=12",
                                     "/engineer/grid?building=x7"],
            }  # fmt: skip
            large = _time_pages(client, big, rounds)
        engine.dispose()
    return {
        "page_p95_ms": demo["p95"],
        "page_ms_by_page": demo["pages"],
        "page_10k_p95_ms": large["p95"],
        "page_10k_ms_by_page": large["pages"],
        "page_10k_devices": added + 115,
    }


async def _streams(base: str, token: str, count: int, got: dict[int, list[float]],
                   ready: threading.Event, stop: threading.Event) -> None:  # fmt: skip
    connected = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal connected
        headers = {"Authorization": f"Bearer {token}"}
        async with client.stream("GET", "/api/v1/stream", headers=headers) as r:
            event_id = None
            async for line in r.aiter_lines():
                if line.startswith(": connected"):
                    connected += 1
                    if connected == count:
                        ready.set()
                elif line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("event: work_order") and event_id is not None:
                    got.setdefault(event_id, []).append(time.time())
                if stop.is_set():
                    return

    limits = httpx.Limits(max_connections=count + 10)
    timeout = httpx.Timeout(10, read=60)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(count)]
        await asyncio.to_thread(stop.wait)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def sse_cell(quick: bool) -> dict[str, Any]:
    """Commit-to-delivery of work-order events to 200 streams of a separate API process."""
    commits = 4 if quick else 40
    with tempfile.TemporaryDirectory(prefix="fhub-sse-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'hub.db'}"
        engine = make_engine(url)
        settings = _settings(workdir)
        _seed(engine, settings)
        port = free_port()
        env = {**os.environ, "FH_DATABASE_URL": url, "FH_TOKEN_PEPPER": PEPPER,
               "FH_DATA_DIR": str(workdir), "FH_API_PORT": str(port),
               "FH_LOG_LEVEL": "WARNING"}  # fmt: skip
        cmd = [fhub(), "serve", "--no-bridge", "--no-scheduler"]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        got: dict[int, list[float]] = {}
        ready, stop = threading.Event(), threading.Event()
        try:
            wait_port(port)
            runner = threading.Thread(
                target=asyncio.run,
                args=(_streams(f"http://127.0.0.1:{port}", "fh_demo_manager", STREAMS, got,
                               ready, stop),),
                daemon=True,
            )  # fmt: skip
            runner.start()
            if not ready.wait(60):
                raise RuntimeError("the streams did not all connect")
            committed = _commit_orders(engine, commits)
            deadline = time.time() + 10
            while time.time() < deadline and any(len(got.get(i, [])) < STREAMS for i in committed):
                time.sleep(0.1)
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=20)
            engine.dispose()
    delays = [(t - at) * 1000 for i, at in committed.items() for t in got.get(i, [])]
    expected = len(committed) * STREAMS
    return {
        "sse_p50_ms": round(percentile(delays, 50), 1),
        "sse_p95_ms": round(percentile(delays, 95), 1),
        "sse_streams": STREAMS,
        "sse_delivered": len(delays),
        "sse_expected": expected,
    }


def _commit_orders(engine: Engine, count: int) -> dict[int, float]:
    """Open `count` orders, one a quarter second; each live event's id → its commit time."""
    from sqlalchemy import func, select

    from hub.live.models import LiveEvent

    sessions = wire(session_factory(engine), settings=Settings(), clock=SystemClock())
    out: dict[int, float] = {}
    for n in range(count):
        with sessions() as session:
            orders.open_order(
                session=session, policy=SlaPolicy(), now=SystemClock().now(), site_id=DEMO_SITE,
                title=f"bench order {n}", source=Source.manual,
                department=Department.engineering, actor="bench",
            )  # fmt: skip
            session.commit()
            at = time.time()
            last = session.scalar(select(func.max(LiveEvent.id)))
        out[int(last or 0)] = at
        time.sleep(0.25)
    return out


def run(quick: bool) -> dict[str, Any]:
    """Both web cells."""
    return {**pages_cell(quick), **ledger_cell(quick), **sse_cell(quick)}
