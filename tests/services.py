"""Reaching the machine's real services from tests: PostgreSQL and Mosquitto.

Locally a missing service skips its tests with a reason; with CI=true it fails them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from hub.db import make_engine, normalise_url

POSTGRES_URL = os.environ.get(
    "FH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MOSQUITTO = (
    os.environ.get("FH_TEST_MOSQUITTO_HOST", "127.0.0.1"),
    int(os.environ.get("FH_TEST_MOSQUITTO_PORT", "1883")),
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, why: str) -> None:
    """Skip (locally) or fail (CI) a test whose real service is not there."""
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(f"{message}; CI must run every service test", pytrace=False)
    pytest.skip(message)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_mosquitto() -> tuple[str, int]:
    """The Mosquitto address, or skip/fail."""
    if not port_open(*MOSQUITTO):
        unavailable("Mosquitto", f"{MOSQUITTO[0]}:{MOSQUITTO[1]}")
    return MOSQUITTO


@contextmanager
def postgres_database(prefix: str = "fh_test") -> Iterator[Engine]:
    """A new, empty PostgreSQL database for the duration of the block, then dropped."""
    admin_url = normalise_url(POSTGRES_URL)
    url = make_url(admin_url)
    if not port_open(url.host or "127.0.0.1", url.port or 5432):
        unavailable("PostgreSQL", f"{url.host}:{url.port}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means no usable server
        admin.dispose()
        unavailable("PostgreSQL", repr(exc))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


VICTORIA_METRICS = os.environ.get("FH_TEST_VICTORIA_METRICS", "/usr/bin/victoria-metrics")


class VictoriaMetrics:
    """A VictoriaMetrics server of the test's own, on a free port: InfluxDB v2 writes in,
    series out. It can be stopped and started again on the same port and data."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "vm.log").open("ab")
        self._proc = subprocess.Popen(
            [
                VICTORIA_METRICS,
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.data_dir / 'data'}",
                "-retentionPeriod=100y",
                "-search.latencyOffset=0s",
                "-search.disableCache",
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("VictoriaMetrics did not start")

    def stop(self) -> None:
        """Stop the server (its data stays)."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=20)
            self._proc = None

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every series matching the selector, with all their samples (flushed first)."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=10)
        response = httpx.post(f"{self.url}/api/v1/export", data={"match[]": match}, timeout=30)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]


@contextmanager
def victoria_metrics(data_dir: Path, port: int) -> Iterator[VictoriaMetrics]:
    """A running VictoriaMetrics (skipped locally, failed in CI, when it is not installed)."""
    if not Path(VICTORIA_METRICS).is_file():
        unavailable("VictoriaMetrics", f"no {VICTORIA_METRICS} (Debian package victoria-metrics)")
    server = VictoriaMetrics(data_dir, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
