"""The InfluxDB sink: committed signals and alarms as time series, for the engineers' Grafana.

It is an after-commit sink of the bridge (`bridges.sinks`): each committed batch is turned
into line protocol (`bridges.lineproto`) on the sink's thread and appended to a bounded
buffer; a writer thread of its own sends the buffer in batches through influxdb-client's
v2 write API. Ingest never waits for InfluxDB:

- while the server is down (or slow) the points wait in the buffer, counted as the
  backlog; the writer retries with exponential backoff and, once the server answers,
  drains the backlog in full batches, oldest first;
- a buffer that would grow past its bound drops its oldest points and counts them
  (`dropped`); the signals stay in SQL, the system of record;
- a batch the server refuses for its content (HTTP 400: a field type clash, a malformed
  point) is counted as `rejected` and not sent again, since no retry could make it pass;
  a refused token (401/403) or a server error is retried like an outage.

A point is sent once: it leaves the buffer only when the server has acknowledged the
batch that holds it. Its state (`ok`, `down`, `off`) and counters are the readiness and
metrics of the process (`hub.health`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bridges import lineproto
from bridges.lineproto import Place
from hub.health import PROCESS, Health
from hub.registry.models import Device, Location
from hub.settings import Settings
from hub.signals.changes import Changes

logger = logging.getLogger(__name__)

Places = Callable[[Iterable[str]], Mapping[str, Place]]
"""Building and floor of each device id asked for."""
Counters = Callable[[], Mapping[str, Any]]
"""A process's counters, written as a point now and then (the bridge's stats)."""

REFUSED_FOR_CONTENT = frozenset({400, 422})
_MILLISECONDS: WritePrecision = WritePrecision.MS  # type: ignore[assignment]


@dataclass
class InfluxStats:
    """What the sink has done with the points it was given."""

    state: str = "ok"
    """`ok`: the last write went through (or none was needed); `down`: it failed."""
    backlog: int = 0
    """Points waiting to be written."""
    written: int = 0
    dropped: int = 0
    """Points dropped from a full buffer."""
    rejected: int = 0
    """Points the server refused for their content."""
    failures: int = 0
    """Writes that failed and will be retried."""
    last_error: str = ""
    last_write_at: str | None = None


class InfluxSink:
    """A bounded buffer of points and the thread that writes them to InfluxDB."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        org: str,
        bucket: str,
        places: Places,
        capacity: int = 500_000,
        batch_points: int = 5_000,
        flush_s: float = 1.0,
        max_backoff_s: float = 30.0,
        timeout_s: float = 10.0,
        counters: Counters | None = None,
        counters_every_s: float = 10.0,
        worker: str = "",
    ) -> None:
        self.bucket = bucket
        self.org = org
        self.places = places
        self.capacity = capacity
        self.batch_points = batch_points
        self.flush_s = flush_s
        self.max_backoff_s = max_backoff_s
        self.counters = counters
        self.counters_every_s = counters_every_s
        self.worker = worker
        self.stats = InfluxStats()
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._buffer: deque[str] = deque()
        self._inflight = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fhub-influx", daemon=True)
        self._last_counters = time.monotonic()
        self._warned_at = 0.0

    # -- the sink side (the sink runner's thread) ---------------------------------------

    def __call__(self, changes: Changes) -> None:
        """Turn a committed batch into points and queue them; never waits for the server."""
        ids = {s.device_id for s in changes.signals} | {a.device_id for a in changes.alarms}
        places = self.places(ids) if ids else {}
        self.add(list(lineproto.changes_lines(changes, places)))

    def add(self, lines: list[str]) -> None:
        """Queue points for writing, dropping the oldest beyond the buffer's bound."""
        if not lines:
            return
        with self._wake:
            self._buffer.extend(lines)
            self._trim()
            self._wake.notify()

    def _trim(self) -> None:
        excess = len(self._buffer) + self._inflight - self.capacity
        if excess <= 0:
            return
        for _ in range(min(excess, len(self._buffer))):
            self._buffer.popleft()
        self.stats.dropped += excess
        now = time.monotonic()
        if now - self._warned_at > 10:  # once in a while, not once a batch
            self._warned_at = now
            logger.warning("influx buffer full: %d points dropped so far", self.stats.dropped)

    # -- the writer (its own thread) ----------------------------------------------------

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def _take(self) -> list[str]:
        """Wait for a full batch, the flush interval, or stop; take up to one batch."""
        with self._wake:
            deadline = time.monotonic() + self.flush_s
            while (
                len(self._buffer) < self.batch_points
                and not self._stopping.is_set()
                and (left := deadline - time.monotonic()) > 0
            ):
                self._wake.wait(left)
            n = min(self.batch_points, len(self._buffer))
            batch = [self._buffer.popleft() for _ in range(n)]
            self._inflight = n
            return batch

    def _give_back(self, batch: list[str]) -> None:
        """Put a failed batch back in front of the buffer, in its order."""
        with self._wake:
            self._inflight = 0
            self._buffer.extendleft(reversed(batch))
            self._trim()

    def _run(self) -> None:
        backoff = 0.0
        while True:
            if backoff and self._stopping.wait(backoff):
                return
            self._maybe_counters()
            batch = self._take()
            if not batch:
                self._refresh_backlog()
                if self._stopping.is_set():
                    return
                continue
            if self._send(batch):
                backoff = 0.0
            else:
                self._give_back(batch)
                backoff = min(self.max_backoff_s, max(0.25, backoff * 2))
            self._refresh_backlog()

    def _send(self, batch: list[str]) -> bool:
        """Write one batch; True when it is done with (written, or refused for its content)."""
        try:
            self._write_api.write(
                bucket=self.bucket,
                org=self.org,
                record="\n".join(batch),
                write_precision=_MILLISECONDS,
            )
        except ApiException as exc:
            if exc.status in REFUSED_FOR_CONTENT:
                self.stats.rejected += len(batch)
                logger.error("influx refused %d points: %s", len(batch), _short(exc.body))
                with self._lock:
                    self._inflight = 0
                return True
            self._failed(f"HTTP {exc.status}: {_short(exc.body or exc.reason)}")
            return False
        except Exception as exc:  # noqa: BLE001 - any transport failure is an outage, retried
            self._failed(f"{type(exc).__name__}: {_short(str(exc))}")
            return False
        with self._lock:
            self._inflight = 0
        self.stats.written += len(batch)
        if self.stats.state != "ok":
            logger.info("influx answers again; %d points waiting", len(self._buffer))
        self.stats.state = "ok"
        self.stats.last_write_at = datetime.now(UTC).isoformat()
        return True

    def _failed(self, error: str) -> None:
        self.stats.failures += 1
        if self.stats.state != "down":
            logger.warning("influx write failed (%s); points are kept and retried", error)
        self.stats.state = "down"
        self.stats.last_error = error

    def _refresh_backlog(self) -> None:
        with self._lock:
            self.stats.backlog = len(self._buffer) + self._inflight

    def _maybe_counters(self) -> None:
        """Now and then, the bridge's and the sink's own counters as points."""
        now = time.monotonic()
        if self.counters is None or now - self._last_counters < self.counters_every_s:
            return
        self._last_counters = now
        ms = int(time.time() * 1000)
        tags = {"worker": self.worker}
        counters = dict(self.counters())
        reasons = counters.pop("reasons", {}) or {}
        ingest = {k: int(counters.get(k, 0)) for k in lineproto.INGEST_FIELDS}
        own = {k: int(getattr(self.stats, k)) for k in lineproto.SINK_FIELDS}
        lines = [
            lineproto.counter_lines(lineproto.INGEST_MEASUREMENT, tags, ingest, ms),
            lineproto.counter_lines(lineproto.SINK_MEASUREMENT, tags, own, ms),
        ]
        lines += [
            lineproto.counter_lines(
                lineproto.DEAD_LETTER_MEASUREMENT, {**tags, "reason": reason}, {"count": n}, ms
            )
            for reason, n in sorted(reasons.items())
        ]
        self.add(lines)

    # -- state ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The sink's state and counters (readiness, metrics)."""
        self._refresh_backlog()
        return asdict(self.stats)

    def drained(self) -> bool:
        """Whether every point given has been written (or dropped, or refused)."""
        with self._lock:
            return not self._buffer and not self._inflight

    def stop(self, timeout: float = 10.0) -> None:
        """Write what the buffer holds for up to `timeout` seconds, then stop."""
        deadline = time.monotonic() + timeout
        while not self.drained() and time.monotonic() < deadline and self.stats.state == "ok":
            time.sleep(0.05)
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(max(0.1, deadline - time.monotonic()))
        if not self.drained():
            logger.warning("influx sink stopped with %d points unwritten", self.stats.backlog)
        self._client.close()  # type: ignore[no-untyped-call]


def _short(text: Any, limit: int = 200) -> str:
    value = str(text or "")
    return value if len(value) <= limit else value[:limit] + "…"


def registry_places(sessions: sessionmaker[Session], ttl_s: float = 600.0) -> Places:
    """Building and floor of devices from the registry, cached (devices seldom move)."""
    cache: dict[str, Place] = {}
    loaded_at = [time.monotonic()]
    lock = threading.Lock()

    def places(asked: Iterable[str]) -> Mapping[str, Place]:
        device_ids = list(asked)
        with lock:
            if time.monotonic() - loaded_at[0] > ttl_s:
                cache.clear()
                loaded_at[0] = time.monotonic()
            missing = [d for d in device_ids if d not in cache]
            if missing:
                with sessions() as session:
                    rows = session.execute(
                        select(Device.id, Location.path)
                        .outerjoin(Location, Location.id == Device.location_id)
                        .where(Device.id.in_(missing))
                    )
                    for device_id, path in rows:
                        cache[device_id] = Place.of_path(path)
                for device_id in missing:
                    cache.setdefault(device_id, Place())
            return {d: cache[d] for d in device_ids}

    return places


def from_settings(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    counters: Counters | None = None,
    worker: str = "",
) -> InfluxSink | None:
    """The sink of the configured InfluxDB (`FH_INFLUX_*`), or None when none is set."""
    if settings.influx_url is None:
        return None
    token = settings.influx_token.get_secret_value() if settings.influx_token else ""
    return InfluxSink(
        url=str(settings.influx_url).rstrip("/"),
        token=token,
        org=settings.influx_org,
        bucket=settings.influx_bucket,
        places=registry_places(sessions),
        capacity=settings.influx_buffer_points,
        batch_points=settings.influx_batch_points,
        counters=counters,
        worker=worker,
    )


def attach(bridge: Any, settings: Settings, health: Health = PROCESS) -> InfluxSink | None:
    """Give `bridge` the configured InfluxDB sink (if any), report it, start its writer.

    The sink flushes and stops with the bridge; its state is the probe `influx`.
    """
    stats = bridge.stats

    def counters() -> Mapping[str, Any]:
        return {**asdict(stats), "reasons": dict(stats.reasons)}

    sink = from_settings(settings, bridge.sessions, counters=counters, worker=bridge.client_id)
    if sink is None:
        health.register("influx", lambda: {"state": "off"})
        return None
    bridge.add_sink("influx", sink, close=sink.stop)
    health.register("influx", sink.status)
    sink.start()
    return sink
