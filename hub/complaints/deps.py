"""FastAPI dependencies of the complaint desk: its policy, who runs the workflow, correlation.

Correlation sits above the desk (it knows alarms and signals, which the desk must not), so
the desk's routes reach it through `Correlator`, which the app factory installs on
`app.state.correlator`, as it installs the token check. Without one, complaints show only
their own links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hub.access import Action
from hub.api.deps import SettingsDep, allowed
from hub.auth.principal import Principal
from hub.complaints.models import Complaint
from hub.complaints.policy import ComplaintPolicy
from hub.complaints.schemas import Correlated


def get_complaint_policy(settings: SettingsDep) -> ComplaintPolicy:
    """The complaint policy of the application's settings."""
    return ComplaintPolicy.from_settings(settings)


ComplaintPolicyDep = Annotated[ComplaintPolicy, Depends(get_complaint_policy)]

DeskDep = Annotated[Principal, Depends(allowed(Action.run_workflow))]
"""The desk and management run the workflow; engineers and others see cases and file them."""


class Correlator(Protocol):
    """What the desk's routes ask of correlation."""

    def correlate(self, *, session: Session, complaint: Complaint, now: datetime) -> Correlated:
        """Find what explains a just-registered complaint, attach it to its known issue, and
        return the view of what was found (so intake need not read it back)."""
        ...

    def views(
        self, *, session: Session, complaints: Sequence[Complaint], now: datetime
    ) -> Mapping[int, Correlated]:
        """The links and known issue of each complaint, by id."""
        ...


class Uncorrelated:
    """No correlation installed: complaints show their own links only."""

    def correlate(self, *, session: Session, complaint: Complaint, now: datetime) -> Correlated:
        """Nothing to find."""
        return Correlated()

    def views(
        self, *, session: Session, complaints: Sequence[Complaint], now: datetime
    ) -> Mapping[int, Correlated]:
        """Nothing to add."""
        return {}


def get_correlator(request: Request) -> Correlator:
    """The correlation the app installed, or none."""
    correlator: Correlator = getattr(request.app.state, "correlator", None) or Uncorrelated()
    return correlator


CorrelatorDep = Annotated[Correlator, Depends(get_correlator)]
