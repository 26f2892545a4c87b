"""Every periodic job of the hub, in one place, each run once per period by one hub process.

A job is a `Job`: its id, how often the scheduler looks at it, and either a fixed interval
or a calendar cadence in local time (weekly, half-monthly, monthly). Each look claims the
job's current period in `job_runs` with a conditional update (`period_start < :period`)
in the same transaction as the job's work: with several hub processes on one database
exactly one wins a period (on PostgreSQL an advisory lock first lets the others skip
without waiting), a failed run rolls its claim back so the next look retries it, and after
downtime the missed periods collapse into the current one, run once at the first look.
The claim lives in the database, so it survives restarts, which APScheduler's own
coalescing does not.

`hub_jobs` is the list of the hub's jobs; a new periodic duty (such as the retention of raw
telemetry) is one more `Job` there.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.alarms.engine import RuleContext, rule_context
from hub.alarms.rules import RuleBook
from hub.cases import watchdog
from hub.clock import Clock
from hub.complaints import reminders
from hub.complaints import workflow as complaint_workflow
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.evidence import jobs as evidence_jobs
from hub.evidence.keys import Keyring
from hub.forecasts.flows import forecast_pass
from hub.inspections import jobs as inspection_jobs
from hub.inspections import rounds as inspection_rounds
from hub.parts.flows import reorder_pass
from hub.reports import jobs as report_jobs
from hub.reports import periods
from hub.reports.enums import Cadence
from hub.reports.models import JobRun
from hub.retention import jobs as retention_jobs
from hub.settings import Settings
from hub.signals.jobs import check_heartbeats, evaluate_durations
from hub.wiring import wire
from hub.workorders import service as workorders

logger = logging.getLogger(__name__)

After = Callable[[], None]
"""Work to do once the job's transaction has committed (mail, for instance)."""
Body = Callable[[Session, datetime, datetime], After | None]
"""A job's work: (session, the period's start, now); it may return what to do after commit."""


@dataclass(frozen=True)
class Job:
    """One periodic job: looked at every `every_s` seconds, run once per period."""

    id: str
    body: Body
    every_s: int
    cadence: Cadence | None = None
    """A calendar job's period; None: the period is the `every_s` slot."""
    zone: tzinfo = UTC
    """The local time a calendar job's periods are counted in."""

    def period(self, now: datetime) -> datetime:
        """The start of the period `now` falls in."""
        if self.cadence is None:
            return periods.interval_start(now, self.every_s)
        return periods.boundary(self.cadence, now, self.zone)


def holds_job_lock(session: Session, job: str) -> bool:
    """Take the job's transaction-scoped advisory lock on PostgreSQL (SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(f"fhub:{job}".encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


def claim(session: Session, job: str, period: datetime, now: datetime) -> bool:
    """Claim `period` for `job` in the session's transaction; False if it is already taken."""
    moved = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period_start < period)
        .values(period_start=period, ran_at=now, runs=JobRun.runs + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) == 1:
        return True
    if session.get(JobRun, job) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, period_start=period, ran_at=now, runs=1))
    except IntegrityError:
        return False  # another process made the row (and ran the period) first
    return True


def run_job(sessions: sessionmaker[Session], job: Job, clock: Clock) -> bool:
    """Run `job` for its current period if this process claims it; True if it ran."""
    now = clock.now()
    period = job.period(now)
    after: After | None = None
    with sessions() as session:
        if not holds_job_lock(session, job.id) or not claim(session, job.id, period, now):
            session.rollback()
            return False
        try:
            after = job.body(session, period, now)
            session.commit()
        except Exception:
            session.rollback()
            logger.exception("scheduled job %s failed", job.id)
            return False
    if after is not None:
        try:
            after()
        except Exception:
            logger.exception("scheduled job %s: the work after its commit failed", job.id)
    return True


CASE_KINDS: tuple[watchdog.CaseType[Any], ...] = (
    workorders.CASES,
    complaint_workflow.CASES,
    inspection_rounds.CASES,
)
"""Every kind of case with deadlines (orders, complaints, patrol rounds): one watchdog."""


def sla_job(every_s: int, zone: tzinfo = UTC) -> Job:
    """Flag the deadlines of work orders, complaints and rounds that have passed."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        flagged = watchdog.flag_all(session=session, kinds=CASE_KINDS, now=now, zone=zone)
        for label, count in flagged.items():
            if count:
                logger.info("SLA watchdog flagged %d %s(s)", count, label)

    return Job("sla_watchdog", body, every_s)


def pipeline_job(every_s: int, ctx: RuleContext) -> Job:
    """Fire duration rules that need no further message; mark silent devices late/offline."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        fired = evaluate_durations(session=session, ctx=ctx, now=now)
        changed = check_heartbeats(session=session, ctx=ctx, now=now)
        if fired or any(changed.values()):
            logger.info("pipeline watchdog: %d duration alarm(s), availability %s", fired, changed)

    return Job("pipeline_watchdog", body, every_s)


def inspection_job(every_s: int, zone: tzinfo, rules: RuleBook) -> Job:
    """Open patrol rounds, close missed ones, re-check entries that late messages speak of."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        result = inspection_jobs.watch(session=session, now=now, zone=zone, rules=rules)
        if result.opened or result.missed or result.discrepancies:
            logger.info("inspection watch: %s", result)

    return Job("inspection_watch", body, every_s)


def evidence_job(every_s: int, keyring: Keyring) -> Job:
    """Sign a checkpoint of every site whose chain heads moved."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        made = evidence_jobs.checkpoint_sites(session=session, keyring=keyring, now=now)
        if made:
            logger.info("evidence: %d signed checkpoint(s)", made)

    return Job("evidence_checkpoint", body, every_s)


def correlation_job(every_s: int, policies: Policies) -> Job:
    """The desk's reactions to what committed; shut-off tasks for undispatched leak orders."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        done = watch(session=session, policies=policies, now=now)
        if done.notices or done.links or done.attached or done.merged:
            logger.info(
                "correlation: %d notice(s), %d link(s), %d attached, %d merged",
                done.notices,
                done.links,
                done.attached,
                done.merged,
            )

    return Job("correlation_watch", body, every_s)


def forecast_job(every_s: int, ctx: RuleContext) -> Job:
    """Dispenser and battery forecasts with the orders they open; parts due for reorder."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        done = forecast_pass(session=session, rules=ctx.rules, policy=ctx.policy, now=now)
        reorders = reorder_pass(session=session, now=now, zone=ctx.policy.zone)
        if done.raised or done.cleared or reorders.due:
            logger.info(
                "forecasts: %d reading(s), %d alarm(s) raised, %d cleared; %d part(s) to reorder",
                done.readings,
                done.raised,
                done.cleared,
                len(reorders.due),
            )

    return Job("forecast_watch", body, every_s)


def callback_job(every_s: int, lead: timedelta, zone: tzinfo) -> Job:
    """Remind the desk of callbacks (回访) about to fall due."""

    def body(session: Session, _period: datetime, now: datetime) -> None:
        done = reminders.remind_callbacks(session=session, now=now, lead=lead, zone=zone)
        if done:
            logger.info("callback reminders: %d", len(done))

    return Job("callback_reminders", body, every_s)


def report_job(
    cadence: Cadence, settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> Job:
    """Store every site's reports of `cadence` once its period ends; mail them after commit."""
    zone = settings.zone

    def body(session: Session, period: datetime, now: datetime) -> After | None:
        made = report_jobs.run_reports(
            session=session, cadence=cadence, period_start=period, now=now, zone=zone
        )
        if not made or settings.smtp_host is None:
            return None

        def mail() -> None:
            with sessions() as later:
                report_jobs.mail_runs(
                    session=later, settings=settings, run_ids=made, now=clock.now()
                )
                later.commit()

        return mail

    return Job(f"reports_{cadence}", body, settings.report_check_seconds, cadence, zone)


def retention_job(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Job:
    """Prune old raw telemetry in batches, each after a signed checkpoint (`hub.retention`).

    The batches are transactions of their own, so they run after the period's claim commits
    (on SQLite the claim holds the one write lock until then).
    """
    keyring = Keyring.open(settings.key_dir, now=clock.now())

    def body(_session: Session, _period: datetime, now: datetime) -> After:
        def prune() -> None:
            done = retention_jobs.prune(
                sessions=sessions, settings=settings, keyring=keyring, now=now
            )
            if done.pruned:
                logger.info("retention: %d signal(s) pruned in %d run(s)", done.pruned, done.runs)

        return prune

    return Job("retention", body, settings.retention_check_seconds)


def hub_jobs(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> list[Job]:
    """Every periodic job of the hub."""
    zone = settings.zone
    return [
        sla_job(settings.sla_check_seconds, zone),
        pipeline_job(settings.rules_check_seconds, rule_context(settings)),
        inspection_job(
            settings.inspection_check_seconds, zone, RuleBook.from_file(settings.rules_file)
        ),
        evidence_job(
            settings.evidence_checkpoint_seconds, Keyring.open(settings.key_dir, now=clock.now())
        ),
        correlation_job(settings.correlation_check_seconds, Policies.from_settings(settings)),
        callback_job(
            settings.callback_check_seconds,
            timedelta(minutes=settings.callback_reminder_minutes),
            zone,
        ),
        *(report_job(cadence, settings, sessions, clock) for cadence in Cadence),
        forecast_job(settings.forecast_check_seconds, rule_context(settings)),
        *([retention_job(settings, sessions, clock)] if settings.retention_days else []),
        # Further periodic duties are added here.
    ]


def sla_watchdog(sessions: sessionmaker[Session], clock: Clock, zone: tzinfo = UTC) -> bool:
    """Run the SLA watchdog once now (its period permitting)."""
    return run_job(sessions, sla_job(1, zone), clock)


def correlation_watch(sessions: sessionmaker[Session], clock: Clock, policies: Policies) -> bool:
    """Run the desk's reactions once now (their period permitting)."""
    return run_job(sessions, correlation_job(1, policies), clock)


def start_scheduler(
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Clock,
    jobs: list[Job] | None = None,
) -> BackgroundScheduler:
    """Start the background scheduler with the hub's jobs, each looked at once right away."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
    wire(sessions, settings=settings, clock=clock)  # order reactions; changes to the pages
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in jobs if jobs is not None else hub_jobs(settings, sessions, clock):
        scheduler.add_job(
            run_job,
            "interval",
            seconds=job.every_s,
            args=(sessions, job, clock),
            id=job.id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
    scheduler.start()
    return scheduler
