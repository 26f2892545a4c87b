"""FastAPI dependencies of the complaint desk: its policy, and who runs the workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hub.access import Action
from hub.api.deps import SettingsDep, allowed
from hub.auth.principal import Principal
from hub.complaints.policy import ComplaintPolicy


def get_complaint_policy(settings: SettingsDep) -> ComplaintPolicy:
    """The complaint policy of the application's settings."""
    return ComplaintPolicy.from_settings(settings)


ComplaintPolicyDep = Annotated[ComplaintPolicy, Depends(get_complaint_policy)]

DeskDep = Annotated[Principal, Depends(allowed(Action.run_workflow))]
"""The desk and management run the workflow; engineers and others see cases and file them."""
