"""The scheduled report runs: every site's reports of a cadence for the period just ended,
stored, announced, and mailed to department heads after the commit."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.registry.models import Site
from hub.reports import flows, mail, periods
from hub.reports.enums import Cadence, RunTrigger
from hub.reports.models import ReportRun
from hub.settings import Settings

logger = logging.getLogger(__name__)

ACTOR = "scheduler"


def run_reports(
    *, session: Session, cadence: Cadence, period_start: datetime, now: datetime, zone: tzinfo
) -> list[int]:
    """Store every site's `cadence` reports for the period ending at `period_start`."""
    since, until = periods.previous(cadence, period_start, zone), period_start
    made: list[int] = []
    for site_id in session.scalars(select(Site.id).order_by(Site.id)):
        for name in flows.SCHEDULE[cadence]:
            done = session.scalar(
                select(ReportRun.id).where(
                    ReportRun.report == name,
                    ReportRun.site_id == site_id,
                    ReportRun.since == since,
                    ReportRun.until == until,
                )
            )
            if done is not None:
                continue
            report = flows.build(
                session=session,
                name=name,
                site_id=site_id,
                since=since,
                until=until,
                now=now,
                zone=zone,
            )
            run = flows.store(
                session=session, report=report, trigger=RunTrigger.schedule, actor=ACTOR, now=now
            )
            made.append(run.id)
    if made:
        logger.info("%s reports: %d run(s) stored for %s", cadence, len(made), since.isoformat())
    return made


def mail_runs(
    *,
    session: Session,
    settings: Settings,
    run_ids: Sequence[int],
    now: datetime,
) -> int:
    """Mail stored runs to the department heads; a failure is kept on the run, not raised."""
    to = mail.recipients(settings)
    if settings.smtp_host is None or not to:
        return 0
    sent = 0
    for run_id in run_ids:
        run = session.get_one(ReportRun, run_id)
        try:
            mail.send(settings, flows.letter(run, settings.zone), to)
        except (OSError, smtplib.SMTPException) as exc:
            run.mail_error = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning("report run %s not mailed: %s", run_id, run.mail_error)
            continue
        run.mailed_to, run.mailed_at, run.mail_error = list(to), now, None
        sent += 1
    session.flush()
    return sent
