"""The stream's dependencies: its caller (bearer token or the pages' cookie), the follower."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.api.deps import PRINCIPAL_KEY, SessionDep, request_principal
from hub.auth.principal import Principal
from hub.live.stream import Follower

_bearer = HTTPBearer(auto_error=False, description="API token from `fhub users add`")


def stream_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, by bearer token or, for a browser's EventSource, by the session cookie.

    The stream only reads, so the cookie (SameSite=Strict) is enough here; every route
    that changes something takes the bearer token or, with the cookie, a CSRF token too.
    """
    earlier = request.scope.get(PRINCIPAL_KEY)
    if isinstance(earlier, Principal):
        return earlier
    return request_principal(request, session)


def get_follower(request: Request) -> Follower:
    """This process's follower of the live-event log (one per app, made on first use)."""
    follower: Follower | None = getattr(request.app.state, "live", None)
    if follower is None:
        follower = request.app.state.live = Follower(request.app.state.sessions)
    return follower


StreamPrincipalDep = Annotated[Principal, Depends(stream_principal)]
FollowerDep = Annotated[Follower, Depends(get_follower)]
