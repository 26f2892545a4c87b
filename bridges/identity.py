"""The bridge's MQTT client id: unique per installation, and per worker within it.

A broker gives a client id one session: a second client connecting with the same id takes
the session over and the first reconnects and takes it back, each time dropping what was
in flight (98 of 200 messages lost in 6 s with two hubs on the old default `fhub-bridge`).
The id must not change either, or the broker keeps what was queued for the old session.

So the id is `fhub-{installation}-{slot}`:

- the installation is derived from the database, which every worker of one installation
  shares and which outlives containers: on PostgreSQL a digest of the cluster's system
  identifier and the database name; on SQLite, whose file lives beside it, a random id
  written once to `installation-id` under `data_dir`;
- the slot is the lowest free worker number, held for as long as the bridge runs: on
  PostgreSQL a session advisory lock on a connection of its own (released by the server
  if the process dies), on SQLite an exclusive lock on a file under `data_dir`. A worker
  that restarts gets its number, and so its session, back.

`FH_MQTT_CLIENT_ID` overrides all of this (then every worker needs its own).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

SLOTS = 64
"""Bridge workers one installation may run at once."""
SLOT_LOCK_CLASS = 0x46480001
"""The first key of the two-key advisory locks on worker slots (the second is the slot)."""
INSTALLATION_FILE = "installation-id"


@dataclass
class ClientId:
    """A claimed client id; `release` frees its worker slot."""

    value: str
    _release: Callable[[], None]

    def release(self) -> None:
        """Give the slot back (the next bridge to start takes it)."""
        self._release()


def installation_id(engine: Engine, data_dir: Path) -> str:
    """Twelve hex digits naming this installation (its database), stable across restarts."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            system, database = conn.execute(
                text("SELECT system_identifier, current_database() FROM pg_control_system()")
            ).one()
        return hashlib.sha256(f"{system}/{database}".encode()).hexdigest()[:12]
    path = data_dir / INSTALLATION_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="ascii") as new:
            new.write(secrets.token_hex(6) + "\n")
    except FileExistsError:
        pass
    return path.read_text(encoding="ascii").strip()


def claim_client_id(engine: Engine, data_dir: Path, prefix: str = "fhub") -> ClientId:
    """The lowest free worker slot of this installation, as a client id held until released."""
    installation = installation_id(engine, data_dir)
    claim = _claim_postgres_slot if engine.dialect.name == "postgresql" else _claim_file_slot
    slot, release = claim(engine, data_dir)
    client_id = f"{prefix}-{installation}-{slot}"
    logger.info("bridge client id %s (worker slot %d)", client_id, slot)
    return ClientId(client_id, release)


def _claim_postgres_slot(engine: Engine, _data_dir: Path) -> tuple[int, Callable[[], None]]:
    conn = engine.connect()
    try:
        for slot in range(SLOTS):
            held = conn.scalar(
                text("SELECT pg_try_advisory_lock(:c, :s)"), {"c": SLOT_LOCK_CLASS, "s": slot}
            )
            conn.commit()  # session locks outlive the transaction; no snapshot is kept open
            if held:
                return slot, conn.close  # closing the connection ends its locks
    except BaseException:
        conn.close()
        raise
    conn.close()
    raise RuntimeError(f"all {SLOTS} bridge worker slots of this installation are taken")


def _claim_file_slot(_engine: Engine, data_dir: Path) -> tuple[int, Callable[[], None]]:
    if sys.platform == "win32":  # no flock: one bridge per data directory
        return 0, lambda: None
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    for slot in range(SLOTS):
        handle: IO[bytes] = (data_dir / f"bridge-slot-{slot}.lock").open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return slot, handle.close  # the lock ends with the file (or the process)
    raise RuntimeError(f"all {SLOTS} bridge worker slots under {data_dir} are taken")
