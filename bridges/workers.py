"""Several bridge workers on one MQTT shared subscription: `fhub serve --workers N`.

One Python process ingests on one core at most (the GIL), so a site that outgrows it runs
several bridge processes. Each is a plain `fhub serve --bridge --no-api --no-scheduler`
subscribed as `$share/{group}/fh/+/+/+/+`: the broker hands each message to one member of
the group. Nothing else is shared but the database, which already serialises what must be
(each device's chain head is locked per batch; alarms and orders are unique where they must
be), so a message is stored once and an alarm opens one order whichever worker takes it.
Each worker claims its own client id slot (`bridges.identity`), so a restarted worker gets
its persistent session back.

The supervisor here starts the N processes, restarts one that dies (with backoff, so a
worker that cannot start does not spin), and stops them all on the way out. The parent
keeps the API and the scheduler; it reports the workers as the `workers` health probe.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hub.health import PROCESS, Health
from hub.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_GROUP = "fhub"
MAX_BACKOFF_S = 30.0
HEALTH_FILE_ENV = "FHUB_WORKER_HEALTH_FILE"
"""Where a worker writes its health reports (set by the supervisor for each worker)."""
HEALTH_EVERY_S = 2.0
HEALTH_STALE_S = 15.0


def worker_command(config: Path | None) -> list[str]:
    """The command line of one bridge worker."""
    command = [sys.executable, "-m", "hub.cli", "serve", "--bridge", "--no-api", "--no-scheduler"]
    if config is not None:
        command += ["--config", str(config)]
    return command


_LINUX = sys.platform.startswith("linux")
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None) if _LINUX else None
"""Loaded here, not in the forked child: a child of a threaded process must not import."""


def _die_with_parent() -> None:
    """In the worker, before it runs: a SIGTERM when the supervisor dies, however it dies
    (even killed outright), so no worker is left ingesting without one."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Workers:
    """N bridge worker processes, kept running until stopped."""

    def __init__(
        self,
        count: int,
        *,
        share_group: str,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        health_dir: Path | None = None,
    ) -> None:
        self.count = count
        self.share_group = share_group
        self.command = list(command or worker_command(config))
        self.env = {**os.environ, **(env or {}), "FH_MQTT_SHARE_GROUP": share_group}
        self.health_dir = health_dir
        self.restarts = 0
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self._backoff = [0.0] * count
        self._due = [0.0] * count
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="fhub-workers", daemon=True)

    def start(self) -> None:
        """Start every worker and the thread that restarts the ones that die."""
        for slot in range(self.count):
            self._spawn(slot)
        self._thread.start()
        logger.info("%d bridge workers on shared group %s", self.count, self.share_group)

    def _health_file(self, slot: int) -> Path | None:
        return None if self.health_dir is None else self.health_dir / f"worker-{slot}.json"

    def _spawn(self, slot: int) -> None:
        env = dict(self.env)
        health = self._health_file(slot)
        if health is not None:
            health.parent.mkdir(parents=True, exist_ok=True)
            health.unlink(missing_ok=True)
            env[HEALTH_FILE_ENV] = str(health)
        proc = subprocess.Popen(  # logs go where ours go
            self.command, env=env, preexec_fn=_die_with_parent if _LINUX else None
        )
        with self._lock:
            self._procs[slot] = proc
        logger.info("bridge worker %d started (pid %d)", slot, proc.pid)

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            now = time.monotonic()
            for slot in range(self.count):
                with self._lock:
                    proc = self._procs[slot]
                if proc is not None and proc.poll() is None:
                    if now - self._due[slot] > 60:
                        self._backoff[slot] = 0.0  # it has run a while: start afresh next time
                    continue
                if proc is not None:
                    logger.error("bridge worker %d exited with %s", slot, proc.returncode)
                    with self._lock:
                        self._procs[slot] = None
                    self._backoff[slot] = min(MAX_BACKOFF_S, max(1.0, self._backoff[slot] * 2))
                    self._due[slot] = now + self._backoff[slot]
                if now >= self._due[slot] and not self._stopping.is_set():
                    self.restarts += 1
                    self._spawn(slot)
                    self._due[slot] = time.monotonic()

    def pids(self) -> list[int]:
        """The running workers' process ids."""
        with self._lock:
            return [p.pid for p in self._procs if p is not None and p.poll() is None]

    def status(self) -> dict[str, Any]:
        """The `workers` probe: how many run, how often one was restarted, and what each
        worker's own probes last said (its InfluxDB sink), with the backlogs summed."""
        running = len(self.pids())
        state = "ok" if running == self.count else "degraded"
        report: dict[str, Any] = {
            "state": state,
            "running": running,
            "wanted": self.count,
            "restarts": self.restarts,
        }
        reports = [r for slot in range(self.count) if (r := self._read(slot)) is not None]
        if reports:
            sinks = [r["influx"] for r in reports if isinstance(r.get("influx"), dict)]
            report["influx_backlog"] = sum(int(s.get("backlog", 0)) for s in sinks)
            report["influx_down"] = sum(1 for s in sinks if s.get("state") == "down")
            report["each"] = reports
        return report

    def _read(self, slot: int) -> dict[str, Any] | None:
        path = self._health_file(slot)
        try:
            if path is None or time.time() - path.stat().st_mtime > HEALTH_STALE_S:
                return None
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the workers: each writes what it holds, acknowledges it and disconnects."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(2)
        with self._lock:
            procs = [p for p in self._procs if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("bridge worker pid %d did not stop; killing it", proc.pid)
                proc.kill()
                proc.wait()


def start_pool(settings: Settings, dialect: str, config: Path | None, count: int) -> Workers:
    """Start `count` workers for `fhub serve --workers`; ValueError when they cannot run."""
    if dialect != "postgresql":
        raise ValueError("several bridge workers need PostgreSQL (SQLite takes one writer)")
    if settings.mqtt_client_id:
        raise ValueError("FH_MQTT_CLIENT_ID pins one client id; unset it to run several workers")
    pool = Workers(
        count,
        share_group=settings.mqtt_share_group or DEFAULT_GROUP,
        config=config,
        health_dir=settings.data_dir / "run",
    )
    pool.start()
    PROCESS.register("workers", pool.status)
    return pool


def stop_on_sigterm() -> None:
    """A container's stop (SIGTERM) ends the process as Ctrl-C does: work is written first."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def report_health_if_asked(health: Health = PROCESS) -> None:
    """In a worker its supervisor started: write this process's probes to the file it named,
    every few seconds, so the serving process's `/readyz` shows them."""
    target = os.environ.get(HEALTH_FILE_ENV)
    if not target:
        return
    path = Path(target)

    def write() -> None:
        while True:
            try:
                temporary = path.with_suffix(".tmp")
                temporary.write_text(json.dumps(health.reports()), encoding="utf-8")
                temporary.replace(path)
            except OSError:
                logger.exception("cannot write the worker's health to %s", path)
            time.sleep(HEALTH_EVERY_S)

    threading.Thread(target=write, name="fhub-worker-health", daemon=True).start()
