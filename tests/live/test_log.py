"""The live-event log: what committed is logged once, in its transaction; what rolled back
never; the follower delivers a transaction that committed after a later id (PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import migrate
from hub.clock import ManualClock, SystemClock
from hub.db import session_factory
from hub.live import flows, service
from hub.live.models import LiveEvent
from hub.live.stream import Follower
from hub.registry.service import get_or_create_site
from hub.workorders import service as orders
from hub.workorders.enums import Department, Source
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.services import postgres_database

SITE = "live-site"


def _open(session: Session, title: str) -> WorkOrder:
    return orders.open_order(
        session=session,
        policy=SlaPolicy(),
        now=SystemClock().now(),
        site_id=SITE,
        title=title,
        source=Source.manual,
        department=Department.engineering,
        actor="test",
    )


def _events(session: Session) -> list[LiveEvent]:
    return list(session.scalars(select(LiveEvent).order_by(LiveEvent.id)))


def test_what_committed_is_logged_and_what_rolled_back_is_not(fresh_engine: Engine) -> None:
    sessions = session_factory(fresh_engine)
    flows.install(sessions, SystemClock())
    with sessions() as session:
        get_or_create_site(session=session, site_id=SITE, name=SITE, now=SystemClock().now())
        session.commit()
        kept = _open(session, "kept").id
        session.commit()
        _open(session, "rolled back")
        session.rollback()
        with session.begin_nested():
            pass
        savepoint = session.begin_nested()
        _open(session, "savepoint rolled back")
        savepoint.rollback()
        session.commit()
        logged = _events(session)
    assert [(e.type, e.ref, e.site_id) for e in logged] == [("work_order", str(kept), SITE)]
    assert logged[0].data["status"] == "open"
    assert logged[0].data["title"] == "kept"


def test_only_the_hubs_sessions_are_logged_at_the_injected_clocks_time(
    fresh_engine: Engine,
) -> None:
    clock = ManualClock(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    hubs = session_factory(fresh_engine)
    flows.install(hubs, clock)
    flows.install(hubs, clock)  # start-up twice: still one listener
    with hubs() as session:
        get_or_create_site(session=session, site_id=SITE, name=SITE, now=clock.now())
        session.commit()
        kept = _open(session, "kept").id
        session.commit()
    with session_factory(fresh_engine)() as plain, plain.begin():
        _open(plain, "made by another sessionmaker")
    with Session(fresh_engine) as bare, bare.begin():
        _open(bare, "made by a bare session")
    with hubs() as session:
        logged = _events(session)
    assert [(e.ref, e.at) for e in logged] == [(str(kept), clock.now())]


@pytest.mark.postgres
def test_the_follower_delivers_a_commit_that_came_after_a_higher_id() -> None:
    """PostgreSQL only: SQLite writes one transaction at a time, in id order."""
    with postgres_database() as engine:
        migrate.upgrade(engine)
        _late_commit(engine)


def _late_commit(engine: Engine) -> None:
    sessions = session_factory(engine)
    flows.install(sessions, SystemClock())
    with sessions() as setup:
        get_or_create_site(session=setup, site_id=SITE, name=SITE, now=SystemClock().now())
        setup.commit()
    follower = Follower(sessions)
    assert follower.read_new() == []  # the starting point: the log's end
    slow, fast = sessions(), sessions()
    try:
        _open(slow, "slow")
        # The log takes its ids at commit; this transaction takes one early, as a
        # transaction that logged, then did more work before committing, would.
        early = flows.describe(_open(slow, "slow 2"))
        service.append(session=slow, events=[early], at=SystemClock().now())
        _open(fast, "fast")
        fast.commit()
        first = follower.read_new()
        assert [e.data["title"] for e in first] == ["fast"]
        slow.commit()
        late = follower.read_new()
        assert sorted(e.data["title"] for e in late) == ["slow", "slow 2", "slow 2"]
        assert min(e.id for e in late) < first[0].id
    finally:
        slow.close()
        fast.close()
