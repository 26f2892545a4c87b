"""FastAPI dependencies every route uses: database session, clock, settings, the caller.

They know no domain: the app factory puts the token check on `app.state.authenticate`
(`hub.auth.service.principal_for_token`), so this module sits below every router.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from anyio import CancelScope, to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from hub.access import Action, Reach, reach
from hub.auth.principal import Principal
from hub.clock import Clock
from hub.errors import Forbidden, Unauthorized
from hub.settings import Settings


class Authenticator(Protocol):
    """Turns a bearer token into the caller (raises Unauthorized)."""

    def __call__(self, *, session: Session, token: str, pepper: str, now: datetime) -> Principal:
        """The caller `token` belongs to."""
        ...


SHARED = "fh.shared"
"""The ASGI scope key of a request's `Shared` context."""


@dataclass
class Shared:
    """What a request from outside shares with the API calls it makes in process.

    A page calls the API in process (`dashboards/api.py`) several times; the calls carry
    the page's context, so the page and its calls use one database session, one pooled
    connection at a time, and authenticate the caller once. `hub.api.admission` gives
    every request from outside its context and closes it after the answer.
    """

    session: Session | None = None
    connection: Connection | None = None
    token: str | None = None
    principal: Principal | None = None

    def open(self, sessions: sessionmaker[Session]) -> Session:
        """The request's session, on one connection taken from the pool for the request."""
        if self.session is None:
            engine = sessions.kw["bind"]
            self.connection = engine.connect()
            self.session = sessions(bind=self.connection)
        return self.session

    def close(self) -> None:
        """End the session and give its connection back to the pool."""
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    @property
    def busy(self) -> bool:
        """Whether closing needs the database (a connection is held)."""
        return self.connection is not None


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; routes that change data commit explicitly before replying.

    A request from outside and the API calls it makes in process share one session, each
    call leaving nothing behind for the next: a failed call's work is rolled back; after a
    call that succeeded the session forgets the objects it loaded (the next call reads
    afresh). On PostgreSQL (read committed: each statement sees what is committed) the
    transaction goes on, saving a round trip per call; on SQLite it ends, as every SQLite
    transaction holds the write lock. What waits on the database runs in a worker thread;
    the rest stays on the loop, so a page's calls do not each hop to a thread and back.
    """
    sessions: sessionmaker[Session] = request.app.state.sessions
    shared: Shared | None = request.scope.get(SHARED)
    if shared is None:
        session = sessions()
        try:
            yield session
        finally:
            with CancelScope(shield=True):
                await to_thread.run_sync(_end, session)
        return
    if shared.session is not None:
        session = shared.session
    else:  # the request's connection, taken from the pool (it may wait)
        session = await to_thread.run_sync(shared.open, sessions)
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await to_thread.run_sync(session.rollback)
        raise
    if session.get_bind().dialect.name == "postgresql":
        session.expunge_all()
    else:
        await to_thread.run_sync(session.rollback)


def _end(session: Session) -> None:
    session.rollback()
    session.close()


async def get_clock(request: Request) -> Clock:
    """The application's clock (this and the other dependencies without I/O are `async`:
    FastAPI runs them on the loop rather than sending each to a worker thread)."""
    clock: Clock = request.app.state.clock
    return clock


async def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="API token from `fhub users add`")


async def get_principal(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token (once for a page and the API calls it makes)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    shared: Shared | None = request.scope.get(SHARED)
    token = credentials.credentials
    if shared is not None and shared.principal is not None and shared.token == token:
        return shared.principal
    authenticate: Authenticator = request.app.state.authenticate

    def check() -> Principal:
        principal = authenticate(
            session=session,
            token=token,
            pepper=settings.token_pepper.get_secret_value(),
            now=clock.now(),
        )
        session.commit()
        return principal

    principal = await to_thread.run_sync(check)
    if shared is not None:
        shared.token, shared.principal = token, principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def allowed(action: Action) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting the roles the access matrix lets take `action` at all.

    How far they may take it (their department's orders, the complaints they took in) is
    checked on the object, with `hub.access.require`.
    """

    async def check(principal: PrincipalDep) -> Principal:
        if reach(principal.role, action) == Reach.none:
            raise Forbidden(f"role {principal.role} may not {action}")
        return principal

    return check


async def now(clock: ClockDep) -> datetime:
    """The current time from the application clock."""
    return clock.now()


NowDep = Annotated[datetime, Depends(now)]
