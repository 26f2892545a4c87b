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
    """Write chain heads and merged states of already-locked rows in one statement."""
    conn = _driver_connection(session)
    with conn.cursor() as cursor:
        cursor.execute(
            """
            UPDATE device_states AS d SET
                state = v.state::json,
                state_ts = v.state_ts,
                head_digest = v.head_digest,
                signal_count = v.signal_count,
                duplicate_count = v.duplicate_count,
                updated_at = v.updated_at
            FROM unnest(
                %s::varchar[], %s::text[], %s::timestamptz[], %s::varchar[],
                %s::int[], %s::int[], %s::timestamptz[]
            ) AS v(device_id, state, state_ts, head_digest, signal_count, duplicate_count,
                   updated_at)
            WHERE d.device_id = v.device_id
            """,
            (
                [r["device_id"] for r in rows],
                [orjson.dumps(r["state"]).decode() for r in rows],
                [r["state_ts"] for r in rows],
                [r["head_digest"] for r in rows],
                [r["signal_count"] for r in rows],
                [r["duplicate_count"] for r in rows],
                [r["updated_at"] for r in rows],
            ),
        )


def update_last_seen(*, session: Session, seen: dict[str, datetime]) -> None:
    """Set the devices' last-seen times in one statement."""
    conn = _driver_connection(session)
    with conn.cursor() as cursor:
        cursor.execute(
            """
            UPDATE devices AS d SET last_seen_at = v.at
            FROM unnest(%s::varchar[], %s::timestamptz[]) AS v(id, at)
            WHERE d.id = v.id
            """,
            (list(seen), list(seen.values())),
        )
