"""FastAPI dependencies every route uses: database session, clock, settings, the caller.

They know no domain: the app factory puts the token check on `app.state.authenticate`
(`hub.auth.service.principal_for_token`), so this module sits below every router.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from anyio import CancelScope, to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from hub.access import Action, Reach, reach
from hub.api import cookies
from hub.api.params import SLUG
from hub.api.throttle import Throttle
from hub.auth.principal import Principal
from hub.clock import Clock
from hub.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
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


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """A database session for work outside a route's dependencies (a middleware, a page's
    sign-in), from a worker thread: a session of the app's, or what a test put in the
    place of `get_session`."""
    provider = request.app.dependency_overrides.get(get_session)
    if provider is None:
        session: Session = request.app.state.sessions()
        try:
            yield session
        finally:
            _end(session)
        return
    made = provider(request) if inspect.signature(provider).parameters else provider()
    if isinstance(made, Session):
        yield made
        return
    try:
        yield next(made)
    finally:
        close = getattr(made, "close", None)
        if close is not None:
            close()


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

PRINCIPAL_KEY = "fh.principal"
"""Where `hub.api.bodies.GuardedBodies` leaves the caller it authenticated in the
request's scope, before the body was read: the route's own `get_principal` takes it."""

_bearer = HTTPBearer(auto_error=False, description="API token from `fhub users add`")


class SessionCheck(Protocol):
    """Turns the pages' session id into the caller (raises Unauthorized)."""

    def __call__(
        self, *, session: Session, session_id: str, pepper: str, now: datetime
    ) -> Principal:
        """The caller the session stands for."""
        ...


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token, or the pages' session cookie: once for a page and the
    API calls it makes, and once for a request whose body was read after it."""
    return await caller(request, session)


def _credentials(request: Request) -> str:
    """What the caller presented: the same string means the same check."""
    headers = request.headers
    return "\n".join(
        (
            headers.get("authorization", ""),
            request.cookies.get(cookies.COOKIE, ""),
            headers.get(cookies.CSRF_HEADER, "") if request.method not in _SAFE else "",
        )
    )


async def caller(request: Request, session: Session) -> Principal:
    """The request's caller, checked once: taken from the request's scope when the body
    guard checked it, from the page's `Shared` context when the page or an earlier call of
    its own checked the same credentials, else checked now (`request_principal`)."""
    earlier = request.scope.get(PRINCIPAL_KEY)
    if isinstance(earlier, Principal):
        return earlier
    shared: Shared | None = request.scope.get(SHARED)
    presented = _credentials(request)
    if shared is not None and shared.principal is not None and shared.token == presented:
        return shared.principal
    principal = await to_thread.run_sync(request_principal, request, session)
    request.scope[PRINCIPAL_KEY] = principal
    if shared is not None:
        shared.token, shared.principal = presented, principal
    return principal


_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def request_principal(request: Request, session: Session) -> Principal:
    """The caller by its bearer token, else by the pages' session cookie (a change through
    the cookie must carry the session's CSRF token), or Unauthorized.

    Failed checks are counted per client address (`app.state.throttle`): past the limit
    the address gets 429 with `Retry-After`, its credentials unchecked.
    """
    throttle: Throttle = request.app.state.throttle
    settings: Settings = request.app.state.settings
    clock: Clock = request.app.state.clock
    pepper = settings.token_pepper.get_secret_value()
    now = clock.now()
    address = request.client.host if request.client else "unknown"
    wait = throttle.wait(address, now)
    if wait is not None:
        raise TooManyRequests(wait)
    try:
        principal = _check(request, session, pepper=pepper, now=now)
    except Unauthorized:
        throttle.failed(address, now)
        raise
    session.commit()
    return principal


def _check(request: Request, session: Session, *, pepper: str, now: datetime) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        authenticate: Authenticator = request.app.state.authenticate
        return authenticate(session=session, token=token.strip(), pepper=pepper, now=now)
    session_id = cookies.from_request(request)
    if session_id is None:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    if request.method not in _SAFE and not cookies.csrf_ok(
        session_id, request.headers.get(cookies.CSRF_HEADER), pepper=pepper
    ):
        raise Unauthorized("a change through the session cookie needs its CSRF token")
    check: SessionCheck = request.app.state.authenticate_session
    return check(session=session, session_id=session_id, pepper=pepper, now=now)


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


async def known_site(request: Request, session: SessionDep) -> None:
    """A `?site=` the caller does not see (unknown, or another's) is 404 on every route,
    before the route looks: never an empty list on some and 404 on others."""
    site = request.query_params.get("site")
    if site is None or not re.match(SLUG, site):  # not a site id at all: the route says 422
        return
    principal = await caller(request, session)
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
