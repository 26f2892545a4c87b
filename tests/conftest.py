"""Shared fixtures: real SQLite and PostgreSQL engines, rolled-back sessions, clock, API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import migrate
from hub.api.deps import get_session
from hub.app import configure, create_app
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import ManualClock
from hub.db import make_engine
from hub.registry.service import get_or_create_site
from hub.settings import Settings
from hub.wiring import order_reactions
from tests.services import postgres_database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SITE = "sunshine-garden"
OTHER_SITE = "maple-court"


def _sqlite_engine(path: Path) -> Engine:
    return make_engine(f"sqlite:///{path.as_posix()}")


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of each kind, shared by the session's tests."""
    if request.param == "sqlite":
        eng = _sqlite_engine(tmp_path_factory.mktemp("db") / "hub.db")
        migrate.upgrade(eng)
        yield eng
        eng.dispose()
    else:
        with postgres_database() as eng:
            migrate.upgrade(eng)
            yield eng


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of each kind for one test that needs real commits."""
    if request.param == "sqlite":
        eng = _sqlite_engine(tmp_path / "hub.db")
        migrate.upgrade(eng)
        yield eng
        eng.dispose()
    else:
        with postgres_database() as eng:
            migrate.upgrade(eng)
            yield eng


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    order_reactions(session, Settings())  # as the hub's own sessions: an order's move reacts
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at the test's own data directory."""
    return Settings(data_dir=tmp_path)


@pytest.fixture
def sites(db: Session, clock: ManualClock) -> tuple[str, str]:
    """Two sites: the demo site and another one, to prove scoping."""
    get_or_create_site(session=db, site_id=SITE, name="阳光花园", now=clock.now())
    get_or_create_site(session=db, site_id=OTHER_SITE, name="枫叶苑", now=clock.now())
    db.flush()
    return SITE, OTHER_SITE


@pytest.fixture
def make_token(
    db: Session, clock: ManualClock, settings: Settings, sites: tuple[str, str]
) -> Callable[..., str]:
    """Create a user with a role and sites; return its API token."""
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.manager, site_ids: tuple[str, ...] = (SITE,)) -> str:
        user = create_user(
            session=db,
            name=f"{role}-{next(counter)}",
            role=role,
            site_ids=site_ids,
            now=clock.now(),
        )
        return issue_token(
            session=db, user=user, pepper=settings.token_pepper.get_secret_value(), now=clock.now()
        )

    return make


_APPS: dict[int, FastAPI] = {}
"""One built app per database: building one takes FastAPI ~70 ms, a thousand times over."""


@pytest.fixture
def app(engine: Engine, db: Session, clock: ManualClock, settings: Settings) -> FastAPI:
    """The API bound to the test's session, clock and settings."""
    application = _APPS.get(id(engine))
    if application is None:
        application = _APPS[id(engine)] = create_app(settings, engine=engine, clock=clock)
    configure(application, settings=settings, engine=engine, clock=clock)
    application.dependency_overrides.clear()

    def session_override() -> Iterator[Session]:
        try:
            yield db
        finally:
            db.rollback()  # to the last savepoint: a failed request leaves nothing behind

    application.dependency_overrides[get_session] = session_override
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the API (raises nothing: 5xx are asserted like any status)."""
    with TestClient(app, raise_server_exceptions=True) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    """Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}
