"""FastAPI dependencies of work orders: the SLA policy table."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.workorders.policy import SlaPolicy


def get_policy(request: Request) -> SlaPolicy:
    """The SLA policy table the app was built with."""
    policy: SlaPolicy = request.app.state.policy
    return policy


PolicyDep = Annotated[SlaPolicy, Depends(get_policy)]
