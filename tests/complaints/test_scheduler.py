"""The complaint SLA watchdog as the scheduler runs it: its own transaction, real commits."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from hub.clock import ManualClock
from hub.complaints.enums import Step
from hub.complaints.models import Complaint
from hub.db import session_factory
from hub.registry.service import get_or_create_site
from hub.scheduler import sla_watchdog
from tests.complaints.helpers import SITE, file


def test_the_scheduled_watchdog_flags_complaints(fresh_engine: Engine) -> None:
    clock = ManualClock()
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=clock.now())
        complaint_id = file(session, clock).id
        session.commit()
    clock.advance(hours=1)
    sla_watchdog(sessions, clock)
    with sessions() as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        verified = [d for d in complaint.deadlines if d.step == Step.verified][-1]
        assert verified.breached_at == verified.due_at
        assert complaint.escalation_level == 1
        assert complaint.history[-1].actor == "sla-watchdog"
