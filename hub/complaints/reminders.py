"""Callback reminders (回访提醒): the desk is told before a callback falls due.

Every case gets its callback within 2 hours of completion, 100 % of them (DOMAIN.md). A
pending callback deadline that falls due within the lead time gets one reminder: a
`callback_reminder` event on the complaint's history (which is also what marks it
reminded, so each deadline is reminded once, whichever hub process runs the job) and a
message on `fh/{site}/hub/callback` for the desk's screens.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from hub.cases import service as cases
from hub.complaints.enums import Step
from hub.complaints.models import Complaint, ComplaintDeadline, ComplaintEvent
from hub.localtime import shown
from hub.outbox.service import enqueue

ACTION = "callback_reminder"
ACTOR = "system"


def topic(site_id: str) -> str:
    """Where callback reminders are published."""
    return f"fh/{site_id}/hub/callback"


def remind_callbacks(
    *, session: Session, now: datetime, lead: timedelta, zone: tzinfo
) -> list[Complaint]:
    """Remind the desk of every pending callback due within `lead`; return the complaints."""
    reminded = aliased(ComplaintEvent)
    rows = session.execute(
        select(Complaint, ComplaintDeadline)
        .join(ComplaintDeadline, ComplaintDeadline.complaint_id == Complaint.id)
        .where(
            ComplaintDeadline.step == Step.callback,
            ComplaintDeadline.met_at.is_(None),
            ComplaintDeadline.breached_at.is_(None),
            ComplaintDeadline.cycle == Complaint.reopen_count,
            ComplaintDeadline.due_at <= now + lead,
            Complaint.hold_started_at.is_(None),
            ~exists().where(
                reminded.complaint_id == Complaint.id,
                reminded.action == ACTION,
                reminded.at >= ComplaintDeadline.started_at,
            ),
        )
        .order_by(ComplaintDeadline.due_at)
    ).all()
    done = []
    for complaint, deadline in rows:
        due = shown(deadline.due_at, zone)
        cases.remark(
            complaint,
            ComplaintEvent,
            action=ACTION,
            actor=ACTOR,
            at=now,
            note=f"callback due {due}",
        )
        enqueue(
            session=session,
            topic=topic(complaint.site_id),
            payload={
                "event": ACTION,
                "complaint_id": complaint.id,
                "receiver": complaint.receiver,
                "due_at": deadline.due_at.isoformat(),
                "due_local": due,
                "overdue": deadline.due_at <= now,
            },
            now=now,
        )
        done.append(complaint)
    session.flush()
    return done
