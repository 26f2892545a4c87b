"""FastAPI dependencies: database session, clock, settings, the calling user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.auth.service import authenticate
from hub.clock import Clock
from hub.errors import Forbidden, Unauthorized
from hub.settings import Settings
from hub.workorders.policy import SlaPolicy


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


def get_policy(request: Request) -> SlaPolicy:
    """The SLA policy table."""
    policy: SlaPolicy = request.app.state.policy
    return policy


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PolicyDep = Annotated[SlaPolicy, Depends(get_policy)]

_bearer = HTTPBearer(auto_error=False, description="API token from `fhub users add`")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who, in which role, over which sites."""

    user_id: int
    name: str
    role: Role
    site_ids: frozenset[str]

    def sees(self, site_id: str) -> bool:
        """Whether `site_id` is in scope."""
        return site_id in self.site_ids


def get_principal(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    user = authenticate(
        session=session,
        token=credentials.credentials,
        pepper=settings.token_pepper.get_secret_value(),
        now=clock.now(),
    )
    principal = Principal(
        user_id=user.id, name=user.name, role=Role(user.role), site_ids=user.site_ids
    )
    session.commit()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (admin always)."""
    allowed = frozenset(roles) | {Role.admin}

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role} may not do this")
        return principal

    return check


def now(clock: ClockDep) -> datetime:
    """The current time from the application clock."""
    return clock.now()


NowDep = Annotated[datetime, Depends(now)]
