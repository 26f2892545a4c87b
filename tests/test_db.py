"""Database helpers: list parameters for statements built once, bulk-written timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hub import migrate
from hub.clock import ManualClock
from hub.db import any_of, make_engine, sqlite_timestamp
from hub.registry.models import Site
from hub.registry.service import get_or_create_site


def test_a_statement_built_once_takes_lists_of_any_length(db: Session, clock: ManualClock) -> None:
    for code in ("dbt-a", "dbt-b", "dbt-c"):
        get_or_create_site(session=db, site_id=code, name=code, now=clock.now())
    db.flush()
    dialect = db.get_bind().dialect.name
    statement = select(Site.id).where(any_of(Site.id, "ids", dialect)).order_by(Site.id)
    texts: list[str] = []

    def seen(*args: object) -> None:
        texts.append(str(args[2]))

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert db.scalars(statement, {"ids": ["dbt-b"]}).all() == ["dbt-b"]
        assert db.scalars(statement, {"ids": ["dbt-a", "dbt-c", "nope"]}).all() == [
            "dbt-a",
            "dbt-c",
        ]
        assert db.scalars(statement, {"ids": []}).all() == []
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    if dialect == "postgresql":  # one array parameter: the same text whatever the length
        assert len(set(texts)) == 1, texts


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 23, 14, 5, 9, 123456, tzinfo=UTC),
        datetime(2026, 11, 23, 22, 5, 9, tzinfo=timezone(timedelta(hours=8))),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    ],
)
def test_bulk_writes_store_timestamps_as_the_columns_do(tmp_path: Path, value: datetime) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'ts.db').as_posix()}")
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            session.add(Site(id="ts", name="ts", created_at=value))
            session.commit()
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT created_at FROM sites").scalar_one()
    finally:
        engine.dispose()
    assert sqlite_timestamp(value) == stored


def test_a_naive_timestamp_is_refused_by_bulk_writes_too() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_timestamp(datetime(2026, 11, 23, 14, 5))  # noqa: DTZ001 - naive on purpose
