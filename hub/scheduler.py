"""Periodic jobs (APScheduler): the SLA watchdog, the pipeline watchdog, the desk's reactions;
each run by one hub process at a time."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from hub.alarms.engine import RuleContext, rule_context
from hub.alarms.rules import RuleBook
from hub.cases import watchdog
from hub.clock import Clock
from hub.complaints import workflow as complaint_workflow
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.evidence import jobs as evidence_jobs
from hub.evidence.keys import Keyring
from hub.inspections import jobs as inspection_jobs
from hub.inspections import rounds as inspection_rounds
from hub.live import flows as live_flows
from hub.retention import jobs as retention_jobs
from hub.settings import Settings
from hub.signals.jobs import check_heartbeats, evaluate_durations
from hub.workorders import service as workorders

logger = logging.getLogger(__name__)


def holds_job_lock(session: Session, job: str) -> bool:
    """Take the job's transaction-scoped advisory lock on PostgreSQL (SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(f"fhub:{job}".encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


def run_job(sessions: sessionmaker[Session], job: str, body: Callable[[Session], None]) -> bool:
    """Run `body` in one transaction if this process wins the job's lock; True if it ran."""
    with sessions() as session:
        if not holds_job_lock(session, job):
            session.rollback()
            return False
        try:
            body(session)
            session.commit()
        except Exception:
            session.rollback()
            logger.exception("scheduled job %s failed", job)
            return False
    return True


CASE_KINDS: tuple[watchdog.CaseType[Any], ...] = (
    workorders.CASES,
    complaint_workflow.CASES,
    inspection_rounds.CASES,
)
"""Every kind of case with deadlines (orders, complaints, patrol rounds): one watchdog."""


def sla_watchdog(sessions: sessionmaker[Session], clock: Clock, zone: tzinfo = UTC) -> None:
    """Flag the deadlines of work orders and complaints that have passed (notes in `zone`)."""

    def body(session: Session) -> None:
        now = clock.now()
        flagged = watchdog.flag_all(session=session, kinds=CASE_KINDS, now=now, zone=zone)
        for label, count in flagged.items():
            if count:
                logger.info("SLA watchdog flagged %d %s(s)", count, label)

    run_job(sessions, "sla_watchdog", body)


def pipeline_watchdog(sessions: sessionmaker[Session], clock: Clock, ctx: RuleContext) -> None:
    """Fire duration rules that need no further message; mark silent devices late/offline."""

    def body(session: Session) -> None:
        now = clock.now()
        fired = evaluate_durations(session=session, ctx=ctx, now=now)
        changed = check_heartbeats(session=session, ctx=ctx, now=now)
        if fired or any(changed.values()):
            logger.info("pipeline watchdog: %d duration alarm(s), availability %s", fired, changed)

    run_job(sessions, "pipeline_watchdog", body)


def inspection_watch(
    sessions: sessionmaker[Session], clock: Clock, zone: tzinfo, rules: RuleBook
) -> None:
    """Open patrol rounds, close missed ones, re-check entries that late messages speak of."""

    def body(session: Session) -> None:
        result = inspection_jobs.watch(session=session, now=clock.now(), zone=zone, rules=rules)
        if result.opened or result.missed or result.discrepancies:
            logger.info("inspection watch: %s", result)

    run_job(sessions, "inspection_watch", body)


def evidence_checkpoint(sessions: sessionmaker[Session], clock: Clock, keyring: Keyring) -> None:
    """Sign a checkpoint of every site whose chain heads moved."""

    def body(session: Session) -> None:
        made = evidence_jobs.checkpoint_sites(session=session, keyring=keyring, now=clock.now())
        if made:
            logger.info("evidence: %d signed checkpoint(s)", made)

    run_job(sessions, "evidence_checkpoint", body)


def correlation_watch(sessions: sessionmaker[Session], clock: Clock, policies: Policies) -> None:
    """The desk's reactions to what committed; shut-off tasks for undispatched leak orders."""

    def body(session: Session) -> None:
        done = watch(session=session, policies=policies, now=clock.now())
        if done.notices or done.links or done.attached or done.merged:
            logger.info(
                "correlation: %d notice(s), %d link(s), %d attached, %d merged",
                done.notices,
                done.links,
                done.attached,
                done.merged,
            )

    run_job(sessions, "correlation_watch", body)


def retention_prune(sessions: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
    """Prune old raw telemetry in batches, each after a signed checkpoint (`hub.retention`)."""
    keyring = Keyring.open(settings.key_dir, now=clock.now())
    now = clock.now()

    def body(_session: Session) -> None:
        done = retention_jobs.prune(sessions=sessions, settings=settings, keyring=keyring, now=now)
        if done.pruned:
            logger.info("retention: %d signal(s) pruned in %d run(s)", done.pruned, done.runs)

    run_job(sessions, "retention", body)


def start_scheduler(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> BackgroundScheduler:
    """Start the background scheduler with the hub's periodic jobs."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
    live_flows.install()  # what the jobs change (breaches, escalations) reaches the pages
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        sla_watchdog,
        "interval",
        seconds=settings.sla_check_seconds,
        args=(sessions, clock, settings.zone),
        id="sla_watchdog",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        pipeline_watchdog,
        "interval",
        seconds=settings.rules_check_seconds,
        args=(sessions, clock, rule_context(settings)),
        id="pipeline_watchdog",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        inspection_watch,
        "interval",
        seconds=settings.inspection_check_seconds,
        args=(sessions, clock, settings.zone, RuleBook.from_file(settings.rules_file)),
        id="inspection_watch",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        evidence_checkpoint,
        "interval",
        seconds=settings.evidence_checkpoint_seconds,
        args=(sessions, clock, Keyring.open(settings.key_dir, now=clock.now())),
        id="evidence_checkpoint",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        correlation_watch,
        "interval",
        seconds=settings.correlation_check_seconds,
        args=(sessions, clock, Policies.from_settings(settings)),
        id="correlation_watch",
        max_instances=1,
        coalesce=True,
    )
    if settings.retention_days:
        scheduler.add_job(
            retention_prune,
            "interval",
            seconds=settings.retention_check_seconds,
            args=(sessions, clock, settings),
            id="retention",
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return scheduler
