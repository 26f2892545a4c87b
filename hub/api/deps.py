"""FastAPI dependencies every route uses: database session, clock, settings, the caller.

They know no domain: the app factory puts the token check on `app.state.authenticate`
(`hub.auth.service.principal_for_token`), so this module sits below every router.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hub.access import Action, Reach, reach
from hub.api import cookies
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


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routes that change data commit explicitly before replying."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """A database session for work outside a route's dependencies (a middleware, a page's
    sign-in): the one `get_session` gives, or what a test put in its place."""
    provider: Callable[..., Iterator[Session] | Session]
    provider = request.app.dependency_overrides.get(get_session, get_session)
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


def get_clock(request: Request) -> Clock:
    """The application's clock."""
    clock: Clock = request.app.state.clock
    return clock


def get_settings(request: Request) -> Settings:
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


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token, or the pages' session cookie (once: a request with a
    body was authenticated before it was read)."""
    earlier = request.scope.get(PRINCIPAL_KEY)
    if isinstance(earlier, Principal):
        return earlier
    return request_principal(request, session)


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


def allowed(action: Action) -> Callable[[Principal], Principal]:
    """A dependency admitting the roles the access matrix lets take `action` at all.

    How far they may take it (their department's orders, the complaints they took in) is
    checked on the object, with `hub.access.require`.
    """

    def check(principal: PrincipalDep) -> Principal:
        if reach(principal.role, action) == Reach.none:
            raise Forbidden(f"role {principal.role} may not {action}")
        return principal

    return check


def now(clock: ClockDep) -> datetime:
    """The current time from the application clock."""
    return clock.now()


NowDep = Annotated[datetime, Depends(now)]


def known_site(request: Request, session: SessionDep) -> None:
    """A `?site=` the caller does not see (unknown, or another's) is 404 on every route,
    before the route looks: never an empty list on some and 404 on others."""
    site = request.query_params.get("site")
    if site is None:
        return
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        principal = request.scope[PRINCIPAL_KEY] = request_principal(request, session)
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
