"""Reaching the machine's real services from tests: PostgreSQL and Mosquitto.

Locally a missing service skips its tests with a reason; with CI=true it fails them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
