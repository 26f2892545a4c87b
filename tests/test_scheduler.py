"""The scheduler's jobs as they run: their own transaction, real commits, one watchdog."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from hub.clock import ManualClock
from hub.complaints.enums import Step
from hub.complaints.models import Complaint
from hub.db import session_factory
from hub.registry.service import get_or_create_site
from hub.scheduler import sla_watchdog
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.complaints.helpers import SITE, file
from tests.workorders.helpers import new_order


def test_one_watchdog_run_flags_work_orders_and_complaints(fresh_engine: Engine) -> None:
    clock = ManualClock()
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=clock.now())
        complaint_id = file(session, clock).id
        order_id = new_order(session, clock, SlaPolicy()).id
        session.commit()
    clock.advance(hours=1)
    sla_watchdog(sessions, clock)
    with sessions() as session:
        complaint = session.get_one(Complaint, complaint_id)
        verified = [d for d in complaint.deadlines if d.step == Step.verified][-1]
        assert verified.breached_at == verified.due_at
        assert complaint.escalation_level == 1
        assert complaint.history[-1].actor == "sla-watchdog"
        order = session.get_one(WorkOrder, order_id)
        assert order.escalation_level >= 1
        assert {e.action for e in order.history} >= {"sla_breach"}
        assert all(e.actor == "sla-watchdog" for e in order.history if e.action == "sla_breach")
    sla_watchdog(sessions, clock)  # a second run flags nothing twice
    with sessions() as session:
        assert session.get_one(Complaint, complaint_id).escalation_level == 1
