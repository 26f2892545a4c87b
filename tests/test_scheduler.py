"""The scheduler's jobs as they run: their own transaction, real commits, one run per period
whatever the number of hub processes, missed periods coalesced, callback reminders."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import migrate
from hub.clock import ManualClock
from hub.complaints.enums import Status, Step
from hub.complaints.models import Complaint
from hub.db import make_engine, session_factory
from hub.outbox.models import OutboxMessage
from hub.registry.service import get_or_create_site
from hub.reports.enums import Cadence, ReportName
from hub.reports.models import JobRun, ReportRun
from hub.scheduler import (
    After,
    Job,
    callback_job,
    hub_jobs,
    report_job,
    run_job,
    sla_watchdog,
    start_scheduler,
)
from hub.settings import Settings
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from hub.workorders.reactions import registered
from tests.complaints.helpers import SITE, bring_to, file
from tests.services import postgres_database
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


def _counted(job: Job, fired: list[tuple[str, datetime]]) -> Job:
    """The job, noting each period it runs for (list.append is atomic across threads)."""

    def body(session: Session, period: datetime, now: datetime) -> After | None:
        fired.append((job.id, period))
        return job.body(session, period, now)

    return replace(job, body=body)


def _hub(engine: Engine, settings: Settings, clock: ManualClock, fired: list[Any]) -> Any:
    sessions = session_factory(engine)
    return sessions, [_counted(j, fired) for j in hub_jobs(settings, sessions, clock)]


@pytest.mark.postgres
def test_two_hub_processes_run_every_job_once_per_period(tmp_path: Path) -> None:
    """Two schedulers, each with its own engine (as two processes have), look at every job
    at the same moments for two months of local calendar: each period runs exactly once."""
    clock = ManualClock(datetime(2026, 11, 1, 1, 0, tzinfo=UTC))
    settings = Settings(data_dir=tmp_path)
    with postgres_database() as first:
        migrate.upgrade(first)
        second = make_engine(first.url.render_as_string(hide_password=False))
        with session_factory(first)() as session:
            get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=clock.now())
            session.commit()
        fired: list[tuple[str, datetime]] = []
        hubs = [_hub(engine, settings, clock, fired) for engine in (first, second)]
        expected: dict[str, set[datetime]] = {}
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for _step in range(70):  # 70 steps of 21 h: the whole of Nov and Dec local
                    for index in range(len(hubs[0][1])):
                        job = hubs[0][1][index]
                        expected.setdefault(job.id, set()).add(job.period(clock.now()))
                        ran = list(
                            pool.map(
                                lambda hub, i=index: run_job(hub[0], hub[1][i], clock),
                                hubs,
                            )
                        )
                        assert ran.count(True) <= 1
                    clock.advance(hours=21)
        finally:
            second.dispose()
        counts = Counter(fired)
        assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
        assert {job for job, _ in fired} == set(expected)
        for job, wanted in expected.items():
            assert {p for j, p in fired if j == job} == wanted, job
        # Weekly, half-monthly, monthly: the local periods, each once.
        weekly = sorted(p for j, p in fired if j == "reports_weekly")
        assert all(p.astimezone(settings.zone).weekday() == 0 for p in weekly)
        assert {
            p.astimezone(settings.zone).day for j, p in fired if j == "reports_half_monthly"
        } == {
            1,
            16,
        }
        with session_factory(first)() as session:
            stored = session.execute(
                select(ReportRun.report, ReportRun.since, func.count()).group_by(
                    ReportRun.report, ReportRun.since
                )
            ).all()
            assert stored
            assert all(n == 1 for _r, _s, n in stored)
            assert {r for r, _s, _n in stored} == {str(n) for n in ReportName}


def test_missed_periods_after_downtime_coalesce_into_one(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    """A hub down for five weeks runs its weekly reports once on restart, for the last week."""
    clock = ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # Monday 09:00 local
    settings = Settings(data_dir=tmp_path)
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=clock.now())
        session.commit()
    weekly = report_job(Cadence.weekly, settings, sessions, clock)
    assert run_job(sessions, weekly, clock)
    assert not run_job(sessions, weekly, clock)  # the same week: done
    clock.advance(weeks=5)
    restarted = session_factory(fresh_engine)  # a new process: nothing in memory
    weekly = report_job(Cadence.weekly, settings, restarted, clock)
    assert run_job(restarted, weekly, clock)
    assert not run_job(restarted, weekly, clock)
    with restarted() as session:
        since = sorted(session.scalars(select(ReportRun.since).distinct()))
        assert [s.astimezone(settings.zone).date().isoformat() for s in since] == [
            "2026-10-26",
            "2026-11-30",
        ]
        assert session.get_one(JobRun, "reports_weekly").runs == 2


def test_a_failed_run_gives_its_period_back(fresh_engine: Engine) -> None:
    clock = ManualClock()
    sessions = session_factory(fresh_engine)
    calls: list[datetime] = []

    def flaky(_session: Session, period: datetime, _now: datetime) -> None:
        calls.append(period)
        if len(calls) == 1:
            raise RuntimeError("database went away")

    job = Job("flaky", flaky, 60)
    assert not run_job(sessions, job, clock)
    assert run_job(sessions, job, clock)
    assert not run_job(sessions, job, clock)
    assert calls == [calls[0], calls[0]]


def test_the_desk_is_reminded_of_a_callback_once(fresh_engine: Engine) -> None:
    clock = ManualClock()
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=clock.now())
        complaint = bring_to(session, clock, file(session, clock), Status.resolved)
        complaint_id = complaint.id
        session.commit()
    job = callback_job(60, timedelta(minutes=30), ZoneInfo("Asia/Shanghai"))
    clock.advance(minutes=60)  # due in 60 min: not yet
    assert run_job(sessions, job, clock)
    clock.advance(minutes=31)  # due in 29 min
    assert run_job(sessions, job, clock)
    clock.advance(minutes=5)
    assert run_job(sessions, job, clock)
    with sessions() as session:
        complaint = session.get_one(Complaint, complaint_id)
        (reminder,) = [e for e in complaint.history if e.action == "callback_reminder"]
        assert reminder.note.startswith("callback due 2026-11-23 ")
        assert reminder.note.endswith("+08:00")
        (message,) = session.scalars(select(OutboxMessage)).all()
        assert message.topic == f"fh/{SITE}/hub/callback"
        assert message.payload["complaint_id"] == complaint_id


def test_every_job_of_the_hub_is_registered(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    jobs = hub_jobs(settings, session_factory(make_engine("sqlite://")), ManualClock())
    assert [j.id for j in jobs] == [
        "sla_watchdog",
        "pipeline_watchdog",
        "inspection_watch",
        "evidence_checkpoint",
        "correlation_watch",
        "callback_reminders",
        "reports_weekly",
        "reports_half_monthly",
        "reports_monthly",
        "forecast_watch",
    ]


def test_the_scheduler_wires_its_sessions_at_start_up(tmp_path: Path) -> None:
    """The jobs move orders (the shut-off task, the desk's merge): their moves react too."""
    sessions = session_factory(make_engine("sqlite://"))
    with sessions() as before:
        assert list(registered(before)) == []
    jobs = start_scheduler(Settings(data_dir=tmp_path), sessions, ManualClock(), jobs=[])
    try:
        with sessions() as session:
            assert list(registered(session)) == ["notices", "callbacks", "parts"]
    finally:
        jobs.shutdown(wait=False)
