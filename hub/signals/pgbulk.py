"""PostgreSQL fast paths of batch ingest: COPY for signals, one UPDATE for chain heads.

The generic statements work on both databases; on PostgreSQL these keep the statement text
short and constant and let the server take a whole batch in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

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


def _driver_connection(session: Session) -> Any:
    """The psycopg connection under the session's current transaction."""
    return session.connection().connection.driver_connection


def copy_signals(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append `rows` to `signals` with COPY, inside the session's transaction."""
    conn = _driver_connection(session)
    columns = ", ".join(SIGNAL_COLUMNS)
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY signals ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                tuple(
                    orjson.dumps(row[name]).decode() if name == "payload" else row[name]
                    for name in SIGNAL_COLUMNS
                )
            )


def update_states(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write chain heads and merged states of already-locked rows in one statement.

    The rows travel as one JSON document that the server expands: serialising it is one
    orjson call, where adapting seven parameter arrays element by element is Python work.
    The id array tells the planner how few rows are meant, so it takes the primary key
    instead of scanning the table to hash-join a recordset it guesses at 100 rows.
    """
    conn = _driver_connection(session)
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


def update_last_seen(*, session: Session, seen: dict[str, datetime]) -> None:
    """Set the devices' last-seen times in one statement."""
    conn = _driver_connection(session)
    with conn.cursor() as cursor:
        cursor.execute(
            """
            UPDATE devices AS d SET last_seen_at = v.at
            FROM json_to_recordset(%s::json) AS v(id varchar, at timestamptz)
            WHERE d.id = v.id AND d.id = ANY(%s::varchar[])
            """,
            (orjson.dumps([{"id": i, "at": at} for i, at in seen.items()]).decode(), list(seen)),
        )
