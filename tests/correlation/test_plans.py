"""Plans of correlation at intake: every statement starts from an index, none scans a big table.

Correlation runs for every complaint against tables that grow without end (signals,
alarms, orders, complaints), so its statements must probe indexes whatever the size:
SQLite's plans are read with EXPLAIN QUERY PLAN; PostgreSQL's as it plans them for the
values of an intake, on tables grown and analysed (a day's alarms a small part of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import migrate
from hub.correlation.candidates import (
    complaints_between,
    latest_signal,
    near_alarms,
    orders_at,
    site_alarms,
)
from hub.correlation.jobs import unreacted_alarms, unreacted_orders
from hub.db import make_engine
from tests.services import postgres_database

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BIG = ("signals", "alarms", "work_orders", "complaints", "devices")


def _statements() -> dict[str, Select[object]]:
    since = AT - timedelta(hours=24)
    return {
        "near alarms": near_alarms([3, 4, 5], ["light", "leak"], since),  # type: ignore[dict-item]
        "site alarms (uncleared)": site_alarms("s", ["gate"], since)[0],  # type: ignore[dict-item]
        "site alarms (cleared)": site_alarms("s", ["gate"], since)[1],  # type: ignore[dict-item]
        "orders at": orders_at([3, 4, 5], since),  # type: ignore[dict-item]
        "complaints at": complaints_between("s", since, AT, [3, 4, 5]),  # type: ignore[dict-item]
        "complaints of a day": complaints_between("s", since, AT),  # type: ignore[dict-item]
        "latest signal": latest_signal("light-b3-f12", since, AT),  # type: ignore[dict-item]
        "unreacted alarms": unreacted_alarms(since),  # type: ignore[dict-item]
        "unreacted orders": unreacted_orders(since),  # type: ignore[dict-item]
    }


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite file."""
    engine = make_engine(f"sqlite:///{(tmp_path_factory.mktemp('plan') / 'plan.db').as_posix()}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("name", sorted(_statements()))
def test_correlation_probes_indexes_on_sqlite(sqlite_engine: Engine, name: str) -> None:
    compiled = _statements()[name].compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    args = tuple(params[p] for p in compiled.positiontup or ())
    with sqlite_engine.connect() as conn:
        steps = [
            str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args)
        ]
    scans = [s for s in steps if re.match(rf"SCAN ({'|'.join(BIG)})\b", s)]
    assert not scans, steps
    assert any(re.match(r"SEARCH \w+ USING (COVERING )?INDEX", s) for s in steps), steps


def _grow(session: Session) -> None:
    """Enough rows that a sequential scan would cost far more than an index probe."""
    session.execute(
        text("INSERT INTO sites (id, name, timezone, created_at) VALUES ('s', 's', 'UTC', :at);"),
        {"at": AT},
    )
    session.execute(
        text(
            "INSERT INTO locations (id, site_id, kind, code, name, path)"
            " SELECT n, 's', 'floor', n::text, n::text, 'b/' || n FROM generate_series(1, 2000) n"
        )
    )
    session.execute(
        text(
            "INSERT INTO devices (id, site_id, kind, name, location_id, heartbeat_timeout_s,"
            " status, created_at) SELECT 'd' || n, 's', 'light', '', n, 300, 'online', :at"
            " FROM generate_series(1, 2000) n"
        ),
        {"at": AT},
    )
    session.execute(
        text(
            "INSERT INTO signals (device_id, site_id, kind, channel, ts, received_at, idem_key,"
            " payload, prev_digest, digest) SELECT 'd' || (n % 2000 + 1), 's', 'light',"
            " 'telemetry', :at - n * interval '1 second', :at, 'k' || n, '{}', 'x', 'y'"
            " FROM generate_series(1, 60000) n"
        ),
        {"at": AT},
    )
    session.execute(
        text(
            "INSERT INTO alarms (site_id, device_id, type, severity, title, raised_at,"
            " last_seen_at, count, detail, reopen_count, flapping, flap_window_start,"
            " flap_changes, cleared_at) SELECT 's', 'd' || (n % 2000 + 1), 't' || n, 'major',"
            " '', :at - n * interval '5 minutes' - interval '1 hour', :at, 1, '{}', 0, false,"
            " :at, 1, :at - n * interval '5 minutes' FROM generate_series(1, 20000) n"
        ),
        {"at": AT},
    )
    session.execute(text("ANALYZE"))


@pytest.mark.postgres
def test_correlation_probes_indexes_on_postgresql() -> None:
    with postgres_database("fh_corr_plan") as engine:
        migrate.upgrade(engine)
        with Session(engine) as session:
            _grow(session)
            plans = {name: _plan(session, stmt) for name, stmt in _statements().items()}
            session.rollback()
    for name, plan in plans.items():
        for table in ("signals", "alarms", "devices"):
            assert f"Seq Scan on {table}" not in plan, (name, plan)


def _plan(session: Session, statement: Select[object]) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True}
    )
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, str(compiled))
    args = ", ".join(_literal(compiled.params[name]) for name in names)
    session.execute(text(f"PREPARE probe AS {sql}"))
    plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN EXECUTE probe({args})")))
    session.execute(text("DEALLOCATE probe"))
    return plan


def _literal(value: object) -> str:
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
