"""The batch statements of ingest: the reads and locks it runs every batch, and its writes.

Reads and locks (devices as references, chain heads locked in id order, the duplicate
probe) are built once per dialect and run with the batch's lists as parameters: building
and cache-keying a statement costs SQLAlchemy ~170 µs, most of what a batch of one
message costs in Python.

Writes (signals, chain heads, last-seen times) go to the driver's own connection under
the session's transaction. Through SQLAlchemy each row's values would pass one by one
through the columns' type processors: on SQLite that was a quarter of a batch's time, in
a layer that only turns datetimes and dicts into text. Here the values are converted
once, in bulk, to exactly what the column types store.

- PostgreSQL: COPY for signals; chain heads and last-seen times as one JSON document the
  server expands, so a batch is one round trip each and the statement text is constant.
- SQLite: `executemany` of plain tuples (the library loops in C, in-process, no round
  trips to save).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

import orjson
from sqlalchemy import String, Table, and_, bindparam, func, insert, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from hub.db import any_of, json_text, one_of, sqlite_timestamp
from hub.registry.models import Device, DeviceRef
from hub.signals.models import DeadLetter, DeviceState, Signal
from hub.signals.service import GENESIS

SIGNAL_COLUMNS = (
    "device_id",
    "site_id",
    "kind",
    "channel",
    "type",
    "ts",
    "received_at",
    "idem_key",
    "payload",
    "prev_digest",
    "digest",
)

STATE_COLUMNS = (
    "device_id",
    "state",
    "state_ts",
    "head_digest",
    "signal_count",
    "duplicate_count",
    "updated_at",
)


def _driver_connection(session: Session) -> Any:
    """The DB-API connection under the session's current transaction."""
    return session.connection().connection.driver_connection


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_signals(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append `rows` (dicts keyed by `SIGNAL_COLUMNS`) to `signals`."""
    conn = _driver_connection(session)
    columns = ", ".join(SIGNAL_COLUMNS)
    if _postgresql(session):
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY signals ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(
                    tuple(
                        json_text(row[name]) if name == "payload" else row[name]
                        for name in SIGNAL_COLUMNS
                    )
                )
        return
    conn.executemany(
        f"INSERT INTO signals ({columns}) VALUES ({', '.join('?' * len(SIGNAL_COLUMNS))})",
        [
            (
                r["device_id"],
                r["site_id"],
                r["kind"],
                r["channel"],
                r["type"],
                sqlite_timestamp(r["ts"]),
                sqlite_timestamp(r["received_at"]),
                r["idem_key"],
                json_text(r["payload"]),
                r["prev_digest"],
                r["digest"],
            )
            for r in rows
        ],
    )


def write_states(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write chain heads and merged states (dicts keyed by `STATE_COLUMNS`) of locked rows.

    On PostgreSQL the rows travel as one JSON document that the server expands:
    serialising it is one orjson call, where adapting seven parameter arrays element by
    element is Python work. The id array tells the planner how few rows are meant, so it
    takes the primary key instead of scanning the table to hash-join a recordset it
    guesses at 100 rows. On SQLite it is an upsert, which also covers a head created by
    this batch.
    """
    conn = _driver_connection(session)
    if _postgresql(session):
        with conn.cursor() as cursor:
            cursor.execute(
                """
                UPDATE device_states AS d SET
                    state = v.state,
                    state_ts = v.state_ts,
                    head_digest = v.head_digest,
                    signal_count = v.signal_count,
                    duplicate_count = v.duplicate_count,
                    updated_at = v.updated_at
                FROM json_to_recordset(%s::json) AS v(
                    device_id varchar, state json, state_ts timestamptz, head_digest varchar,
                    signal_count int, duplicate_count int, updated_at timestamptz
                )
                WHERE d.device_id = v.device_id AND d.device_id = ANY(%s::varchar[])
                """,
                (orjson.dumps(rows).decode(), [r["device_id"] for r in rows]),
            )
        return
    updated = ", ".join(f"{name} = excluded.{name}" for name in STATE_COLUMNS[1:])
    conn.executemany(
        f"INSERT INTO device_states ({', '.join(STATE_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(STATE_COLUMNS))})"
        f" ON CONFLICT (device_id) DO UPDATE SET {updated}",
        [
            (
                r["device_id"],
                json_text(r["state"]),
                None if r["state_ts"] is None else sqlite_timestamp(r["state_ts"]),
                r["head_digest"],
                r["signal_count"],
                r["duplicate_count"],
                sqlite_timestamp(r["updated_at"]),
            )
            for r in rows
        ],
    )


def update_last_seen(*, session: Session, seen: dict[str, datetime]) -> None:
    """Set the devices' last-seen times in one statement."""
    conn = _driver_connection(session)
    if _postgresql(session):
        with conn.cursor() as cursor:
            cursor.execute(
                """
                UPDATE devices AS d SET last_seen_at = v.at
                FROM json_to_recordset(%s::json) AS v(id varchar, at timestamptz)
                WHERE d.id = v.id AND d.id = ANY(%s::varchar[])
                """,
                (
                    orjson.dumps([{"id": i, "at": at} for i, at in seen.items()]).decode(),
                    list(seen),
                ),
            )
        return
    conn.executemany(
        "UPDATE devices SET last_seen_at = ? WHERE id = ?",
        [(sqlite_timestamp(at), device_id) for device_id, at in seen.items()],
    )


_STATES = cast(Table, DeviceState.__table__)
_DEVICES = cast(Table, Device.__table__)


@dataclass
class Head:
    """A device's chain head and merged state, read under lock and written back once.

    With the device's availability as it stood when the lock was granted: a batch before
    this one (another worker's, or this bridge's previous one) may have changed it since
    the device was loaded for validation.
    """

    device_id: str
    state: dict[str, Any]
    state_ts: datetime | None
    head_digest: str
    signal_count: int
    duplicate_count: int
    status: str
    last_seen_at: datetime | None
    changed: bool = False


def device_refs(*, session: Session, ids: Sequence[str]) -> tuple[dict[str, DeviceRef], set[str]]:
    """The registered devices among `ids` as plain references read with Core, and which of
    them have a chain head already."""
    rows = session.execute(_refs_statement(session.get_bind().dialect.name), {"ids": ids})
    refs: dict[str, DeviceRef] = {}
    headed: set[str] = set()
    for *ref, has_head in rows:
        refs[ref[0]] = DeviceRef(*ref)
        if has_head:
            headed.add(ref[0])
    return refs, headed


@cache
def _refs_statement(dialect: str) -> Select[Any]:
    c = _DEVICES.c
    return (
        select(
            c.id,
            c.site_id,
            c.kind,
            c.status,
            c.last_seen_at,
            c.heartbeat_timeout_s,
            _STATES.c.device_id.is_not(None),
        )
        .outerjoin_from(_DEVICES, _STATES, _STATES.c.device_id == c.id)
        .where(any_of(c.id, "ids", dialect))
    )


def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT for the dialect (the hub runs on SQLite and PostgreSQL)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_STATES)


def lock_heads(
    *, session: Session, device_ids: list[str], existing: set[str], now: datetime
) -> dict[str, Head]:
    """The devices' chain heads, created if missing, locked in id order (no deadlocks).

    `existing`: the ids whose row was there when the devices were read; a row another
    worker creates meanwhile is left as it is. Read and written with Core statements: at
    one row per message, ORM bookkeeping would cost more than the database work.
    """
    dialect = session.get_bind().dialect.name
    missing: list[dict[str, Any]] = [
        {
            "device_id": i,
            "state": {},
            "state_ts": None,
            "head_digest": GENESIS,
            "signal_count": 0,
            "duplicate_count": 0,
            "updated_at": now,
        }
        for i in device_ids
        if i not in existing
    ]
    if missing:
        session.execute(_upsert(dialect).on_conflict_do_nothing(), missing)
    rows = session.execute(_lock_statement(dialect), {"ids": device_ids})
    return {row[0]: Head(*row) for row in rows}


@cache
def _lock_statement(dialect: str) -> Select[Any]:
    c, devices = _STATES.c, _DEVICES.c
    return (
        select(
            c.device_id,
            c.state,
            c.state_ts,
            c.head_digest,
            c.signal_count,
            c.duplicate_count,
            devices.status,
            devices.last_seen_at,
        )
        .join_from(_STATES, _DEVICES, devices.id == c.device_id)
        .where(any_of(c.device_id, "ids", dialect))
        .order_by(c.device_id)
        .with_for_update(of=_STATES)
    )


def load_devices(*, session: Session, ids: Sequence[str]) -> Sequence[Device]:
    """Load, in one statement, the devices whose status the batch will write.

    A device that is not online goes online (or stays offline) with the batch: its row
    changes through the ORM. Loaded together they are in the session when the rules ask for
    them, instead of one SELECT each when a whole site comes back after an outage.
    """
    if not ids:
        return ()
    dialect = session.get_bind().dialect.name
    return session.scalars(select(Device).where(one_of(Device.id, ids, dialect))).all()


def insert_dead_letters(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append dead-letter rows (`hub.signals.service.dead_letter_row`)."""
    session.execute(insert(DeadLetter), rows)


def known_dead_letters(
    *, session: Session, wanted: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (digest, reason) pairs of `wanted` are dead-lettered already."""
    digests = sorted({digest for digest, _reason in wanted})
    if not digests:
        return set()
    found = session.execute(
        select(DeadLetter.digest, DeadLetter.reason).where(DeadLetter.digest.in_(digests))
    )
    return {(digest, reason) for digest, reason in found if digest is not None} & set(wanted)


def write_heads(*, session: Session, heads: Sequence[Head], now: datetime) -> None:
    """Write the changed heads back in one statement (the rows are locked by this batch)."""
    changed = [
        {
            "device_id": h.device_id,
            "state": h.state,
            "state_ts": h.state_ts,
            "head_digest": h.head_digest,
            "signal_count": h.signal_count,
            "duplicate_count": h.duplicate_count,
            "updated_at": now,
        }
        for h in heads
        if h.changed
    ]
    if changed:
        write_states(session=session, rows=changed)


def known_keys(*, session: Session, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (device, idempotency key) pairs are stored already."""
    if not pairs:
        return set()
    dialect = session.get_bind().dialect.name
    found = session.execute(_pair_probe(dialect), _probe_params(sorted(pairs), dialect))
    return {(device_id, key) for device_id, key in found}


@cache
def _pair_probe(dialect: str) -> Select[str, str]:
    """The duplicate lookup, built once: one index probe per wanted pair, from a list.

    Looked up as pairs, not as two IN lists, whose cross product the unique index would
    otherwise be probed with, nor as a row-value IN, which SQLite answers by scanning the
    whole `signals` index (60 ms a batch of 500 at 300,000 rows, growing with the table).
    The wanted pairs are a table the plan loops over: on PostgreSQL `unnest` of two array
    parameters, each pair a `LATERAL … LIMIT 1` probe, a subquery that cannot be flattened
    into a join, so the plan stays index lookups even when prepared while `signals` was
    young and had no statistics (as a plain join it hash-joined a sequential scan); on
    SQLite `json_each` of one JSON parameter joined to the unique index.
    """
    if dialect == "postgresql":
        wanted = (
            func.unnest(
                bindparam("devices", type_=ARRAY(String)), bindparam("keys", type_=ARRAY(String))
            )
            .table_valued("device_id", "idem_key")
            .render_derived()
            .alias("wanted")
        )
        hit = (
            select(literal(1).label("hit"))
            .where(Signal.device_id == wanted.c.device_id, Signal.idem_key == wanted.c.idem_key)
            .limit(1)
            .lateral("hit")
        )
        return select(wanted.c.device_id, wanted.c.idem_key).select_from(wanted.join(hit, true()))
    listed = func.json_each(bindparam("pairs", type_=String)).table_valued("value").alias("wanted")
    return (
        select(Signal.device_id, Signal.idem_key)
        .select_from(listed)
        .join(
            Signal,
            and_(
                Signal.device_id == func.json_extract(listed.c.value, "$[0]"),
                Signal.idem_key == func.json_extract(listed.c.value, "$[1]"),
            ),
        )
    )


def _probe_params(pairs: Sequence[tuple[str, str]], dialect: str) -> dict[str, Any]:
    if dialect == "postgresql":
        return {"devices": [d for d, _k in pairs], "keys": [k for _d, k in pairs]}
    return {"pairs": orjson.dumps(pairs).decode()}


def pair_probe(pairs: Sequence[tuple[str, str]], dialect: str) -> Select[str, str]:
    """Which of `pairs` are in `signals`: the statement built once, with `pairs` bound."""
    return _pair_probe(dialect).params(_probe_params(pairs, dialect))
