"""FastAPI dependencies of work orders: the SLA policy table, who dispatches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub import access
from hub.access import Action
from hub.api.deps import PrincipalDep
from hub.auth.principal import Principal
from hub.errors import Forbidden
from hub.workorders.policy import SlaPolicy


def get_policy(request: Request) -> SlaPolicy:
    """The SLA policy table the app was built with."""
    policy: SlaPolicy = request.app.state.policy
    return policy


PolicyDep = Annotated[SlaPolicy, Depends(get_policy)]


def dispatcher(principal: PrincipalDep) -> Principal:
    """Managers, and the heads of departments (`hub.access`: dispatch)."""
    if not access.allows(principal, Action.dispatch):
        raise Forbidden(f"role {principal.role} may not {Action.dispatch} (heads and managers)")
    return principal


DispatcherDep = Annotated[Principal, Depends(dispatcher)]
