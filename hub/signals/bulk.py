"""The batch writes of ingest, one statement each, on the driver's own connection.

A batch appends its signals, writes its devices' chain heads and advances their last-seen
times. Through SQLAlchemy each row's values would pass one by one through the columns'
type processors: on SQLite that was a quarter of a batch's time, in a layer that only
turns datetimes and dicts into text. Here the values are converted once, in bulk, to
exactly what the column types store, and go to the driver under the session's
transaction.

- PostgreSQL: COPY for signals; chain heads and last-seen times as one JSON document the
  server expands, so a batch is one round trip each and the statement text is constant.
- SQLite: `executemany` of plain tuples (the library loops in C, in-process, no round
  trips to save).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from hub.db import json_text, sqlite_timestamp

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
