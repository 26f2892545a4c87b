"""Pages under load: `fhub serve` on PostgreSQL with 200 live streams open.

Every phase is bounded in requests and time, and talks to loopback only:

- capacity: 16 clients each loading a page as soon as the last one answered, pages/s
  answered 200 (closed loop);
- steady: pages started at a fixed rate (`RATE`, 50/s) whatever the answers (open loop):
  p50/p95 of the answered pages, the share refused (503 with `Retry-After`);
- overload: twice that rate, clients giving up after `GIVE_UP` seconds (their requests
  abandoned), then recovery: from the last page started to the first page answered 200
  by a single client loading pages one after another.

The streams stay open throughout. `python -m benchmarks.load [--quick]` runs the cell alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.plan import percentile
from benchmarks.procstat import machine_busy_s, sample
from benchmarks.services import database, fhub, free_port, wait_port
from hub.clock import SystemClock
from hub.db import session_factory, session_scope
from hub.demo import seed_demo

PEPPER = "bench-load-pepper-0123456789"
PAGES = [
    ("fh_demo_engineer", "/engineer"),
    ("fh_demo_front_desk", "/desk"),
    ("fh_demo_manager", "/manager"),
]
STREAMS = 200
RATE = 50.0
"""Pages started per second in the steady phase (the goal); the overload runs twice it."""
GIVE_UP = 10.0
"""Seconds a client of the overload waits for its page before it hangs up."""
TIMEOUT = 60.0
RECOVERY_LIMIT = 120.0


@dataclass
class Tally:
    """What the pages of one phase answered."""

    started: int = 0
    ok_ms: list[float] = field(default_factory=list)
    refused: int = 0
    retry_after: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    abandoned: int = 0

    def figures(self, seconds: float) -> dict[str, Any]:
        """The phase's figures: rates, latencies, shares."""
        done = max(self.started, 1)
        return {
            "started": self.started,
            "ok": len(self.ok_ms),
            "ok_per_s": round(len(self.ok_ms) / seconds, 1),
            "p50_ms": round(percentile(self.ok_ms, 50), 1),
            "p95_ms": round(percentile(self.ok_ms, 95), 1),
            "refused_share": round(self.refused / done, 3),
            "refused_with_retry_after": self.retry_after == self.refused,
            "abandoned": self.abandoned,
            "errors": dict(self.errors),
        }


async def _page(client: httpx.AsyncClient, n: int, tally: Tally, give_up: float) -> None:
    token, path = PAGES[n % len(PAGES)]
    tally.started += 1
    start = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        r = await asyncio.wait_for(client.get(path, headers=headers, timeout=None), give_up)
    except TimeoutError:  # the client hangs up: its connection is closed
        tally.abandoned += 1
        return
    except httpx.HTTPError as exc:
        key = type(exc).__name__
        tally.errors[key] = tally.errors.get(key, 0) + 1
        return
    if r.status_code == 200:
        tally.ok_ms.append((time.perf_counter() - start) * 1000)
    elif r.status_code == 503:
        tally.refused += 1
        tally.retry_after += "retry-after" in r.headers
    else:
        key = str(r.status_code)
        tally.errors[key] = tally.errors.get(key, 0) + 1


async def closed_loop(client: httpx.AsyncClient, clients: int, seconds: float) -> Tally:
    """`clients` loops, each loading pages one after another for `seconds`."""
    tally = Tally()
    end = time.monotonic() + seconds

    async def loop(k: int) -> None:
        n = k
        while time.monotonic() < end:
            await _page(client, n, tally, TIMEOUT)
            n += clients

    await asyncio.gather(*(loop(k) for k in range(clients)))
    return tally


async def open_loop(
    client: httpx.AsyncClient, rate: float, seconds: float, give_up: float
) -> tuple[Tally, float, list[asyncio.Task[None]]]:
    """Pages started `rate` a second for `seconds`: the tally, when the last one started,
    and the pages still under way then."""
    tally = Tally()
    tasks = []
    start = time.monotonic()
    count = int(rate * seconds)
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_page(client, n, tally, give_up)))
    return tally, time.monotonic(), tasks


async def recovery(client: httpx.AsyncClient, since: float) -> float:
    """Seconds from `since` to the first page answered 200, one page at a time."""
    n = 0
    while time.monotonic() - since < RECOVERY_LIMIT:
        token, path = PAGES[n % len(PAGES)]
        n += 1
        try:
            r = await client.get(
                path, headers={"Authorization": f"Bearer {token}"}, timeout=RECOVERY_LIMIT
            )  # one client: its page waits as long as it takes
        except httpx.HTTPError:
            continue
        if r.status_code == 200:
            return time.monotonic() - since
        await asyncio.sleep(0.05)
    return float("inf")


async def _streams(base: str, count: int, ready: asyncio.Event, stop: asyncio.Event) -> int:
    """`count` live streams held open until `stop`; how many were still open then."""
    opened = 0
    alive = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal opened, alive
        headers = {"Authorization": "Bearer fh_demo_manager"}
        async with client.stream("GET", "/api/v1/stream", headers=headers) as r:
            if r.status_code != 200:
                return
            async for line in r.aiter_lines():
                if line.startswith(": connected"):
                    opened += 1
                    alive += 1
                    if opened == count:
                        ready.set()
                    break
            await stop.wait()

    limits = httpx.Limits(max_connections=count + 10)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(count)]
        await stop.wait()
        done = sum(1 for t in tasks if t.done() and t.exception() is not None)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return alive - done


async def phases(base: str, quick: bool, pid: int) -> dict[str, Any]:
    """The streams, then capacity, steady and overload with recovery."""
    seconds = 5.0 if quick else 20.0
    cpu = time.process_time()
    ready, stop = asyncio.Event(), asyncio.Event()
    streams = asyncio.create_task(_streams(base, STREAMS, ready, stop))
    await asyncio.wait_for(ready.wait(), 60)
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        await closed_loop(client, 4, 2.0)  # warm-up
        served = sample(pid).cpu_s
        capacity = await closed_loop(client, 16, seconds)
        served = sample(pid).cpu_s - served
        steady, _, pending = await open_loop(client, RATE, seconds, TIMEOUT)
        await asyncio.gather(*pending)
        over, ended, pending = await open_loop(client, 2 * RATE, seconds, GIVE_UP)
        took = await recovery(client, ended)  # while the overload's last pages are under way
        await asyncio.gather(*pending)
        drained = time.monotonic() - ended
    stop.set()
    alive = await streams
    return {
        "server_cpu_ms_per_page": round(1000 * served / max(len(capacity.ok_ms), 1), 1),
        "client_cpu_s": round(time.process_time() - cpu, 1),
        "capacity": capacity.figures(seconds),
        "steady": steady.figures(seconds),
        "overload": over.figures(seconds),
        "recovery_s": round(took, 2),
        "overload_drained_s": round(drained, 2),
        "streams_open": alive,
        "seconds": seconds,
    }


@contextmanager
def server(url: str, workdir: Path) -> Iterator[tuple[str, int]]:
    """`fhub serve` (API and pages only) on `url`; its base URL and process id."""
    port = free_port()
    env = {**os.environ, "FH_DATABASE_URL": url, "FH_TOKEN_PEPPER": PEPPER,
           "FH_DATA_DIR": str(workdir), "FH_API_PORT": str(port), "FH_LOG_LEVEL": "WARNING",
           "FH_STREAM_MAX_SECONDS": "3600"}  # fmt: skip
    cmd = [fhub(), "serve", "--no-bridge", "--no-scheduler"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port, timeout=90)  # a loaded machine may take its time to start it
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(quick: bool) -> dict[str, Any]:
    """The cell on a fresh PostgreSQL database: the figures of `fhub bench`."""
    with tempfile.TemporaryDirectory(prefix="fhub-load-") as tmp:
        workdir = Path(tmp)
        with database("postgres", workdir) as (url, engine):
            with session_scope(session_factory(engine)) as session:
                seed_demo(session=session, now=SystemClock().now(), pepper=PEPPER)
            load_before = os.getloadavg()[0]
            busy0, total0 = machine_busy_s()
            with server(url, workdir) as (base, pid):
                cpu0 = sample(pid).cpu_s
                out: dict[str, Any] = {}
                runner = threading.Thread(
                    target=lambda: out.update(asyncio.run(phases(base, quick, pid))), daemon=True
                )
                runner.start()
                runner.join()
                cpu = sample(pid).cpu_s - cpu0
            busy1, total1 = machine_busy_s()
    wall = out["seconds"] * 3
    return {
        "load_pages_per_s": out["capacity"]["ok_per_s"],
        "load_p95_ms": out["steady"]["p95_ms"],
        "load_refused_share": out["steady"]["refused_share"],
        "load_overload_refused_share": out["overload"]["refused_share"],
        "load_recovery_s": out["recovery_s"] if out["recovery_s"] != float("inf") else None,
        "load_server_cpu_ms_per_page": out["server_cpu_ms_per_page"],
        "load_detail": {
            **out,
            "server_cpu_pct": round(100 * cpu / max(wall, 1e-9), 0),
            "machine_busy_pct": round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 0),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
    }


if __name__ == "__main__":
    json.dump(run("--quick" in sys.argv), sys.stdout, indent=2)
    sys.stdout.write("\n")
