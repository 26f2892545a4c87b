"""Database helpers: list parameters for statements built once."""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.db import any_of
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
