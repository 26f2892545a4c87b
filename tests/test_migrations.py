"""Migrations on an empty database of each kind, and agreement with the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import migrate
from hub.db import Base, make_engine
from hub.models import import_all_models
from hub.registry.models import Site


def test_migrations_reach_head_and_agree_with_the_models(fresh_engine: Engine) -> None:
    import_all_models()
    script = ScriptDirectory.from_config(migrate.alembic_config(fresh_engine))
    assert migrate.current_heads(fresh_engine) == set(script.get_heads())
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert set(Base.metadata.tables) <= set(inspect(fresh_engine).get_table_names())


def test_the_history_is_one_line(fresh_engine: Engine) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(fresh_engine))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_upgrade_is_idempotent(fresh_engine: Engine) -> None:
    before = migrate.current_heads(fresh_engine)
    migrate.upgrade(fresh_engine)
    assert migrate.current_heads(fresh_engine) == before


def test_datetimes_come_back_aware_utc(fresh_engine: Engine) -> None:
    shanghai = timezone(timedelta(hours=8))
    with Session(fresh_engine) as session:
        session.add(
            Site(id="tz", name="tz", created_at=datetime(2026, 11, 23, 18, 0, tzinfo=shanghai))
        )
        session.commit()
    with Session(fresh_engine) as session:
        site = session.get(Site, "tz")
        assert site is not None
        assert site.created_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        assert site.created_at.tzinfo == UTC
        session.add(Site(id="naive", name="naive", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        with pytest.raises(Exception, match="naive"):
            session.flush()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
