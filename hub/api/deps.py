"""FastAPI dependencies every route uses: database session, clock, settings, the caller.

They know no domain: the app factory puts the token check on `app.state.authenticate`
(`hub.auth.service.principal_for_token`), so this module sits below every router.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

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


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routes that change data commit explicitly before replying."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


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


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token (once: a request with a body was authenticated first)."""
    earlier = request.scope.get(PRINCIPAL_KEY)
    if isinstance(earlier, Principal):
        return earlier
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    return token_principal(request, session, credentials.credentials)


def token_principal(request: Request, session: Session, token: str) -> Principal:
    """The caller `token` belongs to, by the app's token check (raises Unauthorized)."""
    authenticate: Authenticator = request.app.state.authenticate
    settings: Settings = request.app.state.settings
    clock: Clock = request.app.state.clock
    principal = authenticate(
        session=session,
        token=token,
        pepper=settings.token_pepper.get_secret_value(),
        now=clock.now(),
    )
    session.commit()
    return principal


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
