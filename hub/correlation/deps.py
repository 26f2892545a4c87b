"""FastAPI dependencies of correlation, and what the complaint desk's routes call through.

`DeskCorrelation` is the desk's `Correlator` (`hub.complaints.deps`): the app factory puts
it on `app.state.correlator`, so the desk's routes run correlation at intake and show its
links and known issue without importing it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hub.complaints.models import Complaint
from hub.complaints.schemas import Correlated, ShutOffOut
from hub.correlation import flows, service
from hub.correlation.flows import Policies
from hub.settings import Settings

logger = logging.getLogger(__name__)


class DeskCorrelation:
    """Correlation as the complaint desk's routes use it."""

    def __init__(self, policies: Policies) -> None:
        self.policies = policies

    @classmethod
    def from_settings(cls, settings: Settings) -> DeskCorrelation:
        """With the configured policies."""
        return cls(Policies.from_settings(settings))

    def correlate(self, *, session: Session, complaint: Complaint, now: datetime) -> Correlated:
        """Find what explains the complaint, attach it to its known issue; the view of both.

        The view is built from what correlation found and recorded, without reading the
        links back. Isolated: should correlation fail, the complaint is registered all the
        same (the desk's one-minute rule comes first), the failure is logged and the view
        is empty.
        """
        try:
            with session.begin_nested():
                found = flows.correlate_complaint(
                    session=session, complaint=complaint, policies=self.policies, now=now
                )
        except Exception:
            logger.exception("correlation failed for complaint %s", complaint.id)
            return Correlated()
        known = None
        attached = next((link for link in found.recorded if link.attached), None)
        if found.attached_to is not None and attached is not None:
            known = service.known_issue_of(
                session=session,
                complaint=complaint,
                order=found.attached_to,
                link=attached,
                now=now,
                zone=self.policies.zone,
            )
        return Correlated(links=service.link_views(found.recorded), known_issue=known)

    def views(
        self, *, session: Session, complaints: Sequence[Complaint], now: datetime
    ) -> Mapping[int, Correlated]:
        """The recorded links and the known issue of each complaint."""
        links = service.links_of(session=session, complaint_ids=[c.id for c in complaints])
        attached = {cid: link for cid, found in links.items() for link in found if link.attached}
        known = service.known_issues(
            session=session,
            complaints=complaints,
            links=attached,
            now=now,
            zone=self.policies.zone,
        )
        orders = {c.id: [link.work_order_id for link in c.work_orders] for c in complaints}
        for c in complaints:
            if (issue := known.get(c.id)) is not None:
                orders[c.id].append(issue.work_order_id)
        raised = service.first_responses(
            session=session, order_ids=[o for ids in orders.values() for o in ids]
        )
        return {
            c.id: Correlated(
                links=service.link_views(links.get(c.id, [])),
                known_issue=known.get(c.id),
                shutoffs=[
                    ShutOffOut(
                        work_order_id=r.work_order_id,
                        task_order_id=r.task_order_id,
                        assignee=r.assignee,
                        raised_at=r.raised_at,
                    )
                    for r in (raised[o] for o in sorted(set(orders[c.id])) if o in raised)
                ],
            )
            for c in complaints
        }


def get_policies(request: Request) -> Policies:
    """The policies the app's correlation runs with."""
    desk: DeskCorrelation = request.app.state.correlator
    return desk.policies


PoliciesDep = Annotated[Policies, Depends(get_policies)]
