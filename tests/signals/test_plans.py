"""Plans of the ingest hot path that must not depend on the tables' size or statistics.

A bridge starts on a database whose `signals` table is young: autovacuum has not analysed
it yet, and the statements it prepares early keep their generic plan while the table grows
by thousands of rows a second. The duplicate lookup must be index probes in that plan, and
on SQLite too: a lookup that scans the table costs every batch more as the table grows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub import migrate
from hub.clock import ManualClock
from hub.db import make_engine
from hub.registry.enums import DeviceKind
from hub.signals.bulk import pair_probe
from tests.pipeline import ingest, message, register
from tests.services import postgres_database


def _literal(value: object) -> str:
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(f"'{v}'" for v in value) + "]::varchar[]"
    return str(value)


def _generic_plan(
    session: Session, pairs: list[tuple[str, str]], grow: Callable[[Session], None]
) -> str:
    """The plan PostgreSQL caches for the probe while `signals` is young, after it grew."""
    compiled = pair_probe(pairs, "postgresql").compile(dialect=postgresql.dialect())
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, str(compiled))
    session.execute(text("SET plan_cache_mode = force_generic_plan"))
    session.execute(text(f"PREPARE probe AS {sql}"))
    args = ", ".join(_literal(compiled.params[name]) for name in names)
    session.execute(text(f"EXPLAIN EXECUTE probe({args})"))  # planned and cached: young table
    grow(session)
    plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN EXECUTE probe({args})")))
    session.execute(text("DEALLOCATE probe"))
    session.execute(text("RESET plan_cache_mode"))
    return plan


def test_duplicate_lookup_probes_the_index_on_an_unanalysed_signals_table() -> None:
    with postgres_database("fh_plan") as engine:
        migrate.upgrade(engine)
        with Session(engine) as session:
            register(session, ManualClock(), "plan", [("leak-1", DeviceKind.leak, "1/1")])

            def grow(s: Session) -> None:
                s.execute(
                    text(
                        "INSERT INTO signals (device_id, site_id, kind, channel, ts, received_at,"
                        " idem_key, payload, prev_digest, digest)"
                        " SELECT 'leak-1', 'plan', 'leak', 'telemetry', :at, :at, 'id:' || n,"
                        " '{}', 'x', 'y' FROM generate_series(1, 20000) AS n"
                    ),
                    {"at": datetime(2026, 1, 1, tzinfo=UTC)},
                )

            plan = _generic_plan(session, [("leak-1", "id:5"), ("leak-1", "id:new")], grow)
            session.rollback()
    assert "Seq Scan on signals" not in plan, plan
    assert re.search(r"Index (Only )?Scan using \S+ on signals", plan), plan


def test_duplicate_lookup_probes_the_index_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'plan.db').as_posix()}")
    try:
        migrate.upgrade(engine)
        compiled = pair_probe([("leak-1", "id:5"), ("leak-2", "id:6")], "sqlite").compile(
            dialect=sqlite.dialect()
        )
        params = compiled.construct_params()
        args = tuple(params[name] for name in compiled.positiontup or ())
        with engine.connect() as conn:
            steps = [
                str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args)
            ]
    finally:
        engine.dispose()
    assert not any(step.startswith("SCAN signals") for step in steps), steps
    assert any(re.match(r"SEARCH signals USING (COVERING )?INDEX", step) for step in steps), steps


def test_chain_head_updates_stay_on_their_page() -> None:
    """Every batch rewrites its devices' `device_states` rows: in place (HOT), not moved."""
    clock = ManualClock()
    with postgres_database("fh_hot") as engine:
        migrate.upgrade(engine)
        with Session(engine) as session:
            options = session.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = 'device_states'")
            )
            assert "fillfactor=50" in (options or []), options
            ids = [f"leak-{n:03d}" for n in range(200)]
            register(session, clock, "hot", [(i, DeviceKind.leak, "1/1") for i in ids])
            session.commit()
            for _ in range(6):
                clock.advance(seconds=10)
                batch = [message("hot", "leak", i, {"leak": False}, at=clock.now()) for i in ids]
                ingest(session, clock, *batch)
                session.commit()
            session.execute(text("SELECT pg_stat_force_next_flush()"))
            session.commit()
            updated, hot = session.execute(
                text(
                    "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                    " WHERE relname = 'device_states'"
                )
            ).one()
    assert updated >= 1000
    assert hot >= 0.9 * updated, (updated, hot)
