"""Pruning old raw telemetry, site by site, in batches, with the chains kept verifiable.

For each device of a kind with a retention period the chain is walked in order. A link is
pruned when it is telemetry older than the cutoff, is not a state change (a state field
differs from the reading before), is not the newest signal of the device, and nothing
refers to it (`hub.retention.service`). Events, status messages and state changes are
always kept.

The deleted links leave holes in the hash chain. Each run of consecutive pruned links is
recorded with what the chain said around it (the digest before it, the digest of its last
link, its positions) and signed with the hub's evidence key; a walk steps over a run whose
signature holds, so positions and heads still agree with every checkpoint, and a deletion
without such a record still shows as a broken link. Before each batch a checkpoint of the
site is signed, attesting the chain as it stood with the run still in it.

A batch is one transaction of at most `batch` deleted signals: a long prune holds no lock
for long, and one interrupted loses nothing (the next run picks up where it stopped).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.db import session_scope
from hub.evidence import chains, checkpoints
from hub.evidence.keys import Keyring
from hub.evidence.timeline import for_complaint, for_order
from hub.evidence.verify import pruned_statement
from hub.registry.models import Device
from hub.retention.policy import RetentionPolicy, state_fields, state_of
from hub.retention.service import PlannedRun, Protected, apply, open_cases, referred
from hub.signals.models import Signal


@dataclass
class PruneReport:
    """What a prune did (or, dry, would do)."""

    dry_run: bool = False
    pruned: int = 0
    runs: int = 0
    kept: int = 0
    """Old telemetry kept: state changes and referred-to readings."""
    checkpoints: int = 0
    batches: int = 0
    per_kind: dict[str, int] = field(default_factory=dict)


def protection(
    *, session: Session, site_id: str, device_ids: Sequence[str], before: datetime, now: datetime
) -> dict[str, Protected]:
    """Everything that must stay of the devices' signals, evidence windows included."""
    found = referred(session=session, device_ids=device_ids, now=now)
    orders, complaints = open_cases(session=session, site_id=site_id, before=before)
    for order in orders:
        subject = for_order(session=session, order=order, now=now)
        for device_id in subject.device_ids:
            if device_id in found:
                found[device_id].windows.append((subject.since, subject.until))
    for complaint in complaints:
        subject = for_complaint(session=session, complaint=complaint, now=now)
        until = complaint.closed_at or now
        for device_id in subject.device_ids:
            if device_id in found:
                found[device_id].windows.append((subject.since, until))
    return found


def plan_device(
    *,
    session: Session,
    device: Device,
    cutoff: datetime,
    protected: Protected,
    runs: Mapping[str, chains.Run],
    report: PruneReport,
    most: int,
) -> Iterator[PlannedRun]:
    """The runs of the device's chain to prune, oldest first, each of at most `most` links."""
    horizon = session.scalar(
        select(func.max(Signal.id)).where(Signal.device_id == device.id, Signal.ts < cutoff)
    )
    newest = session.scalar(select(func.max(Signal.id)).where(Signal.device_id == device.id))
    if horizon is None:
        return
    fields = state_fields(device.kind)
    last_state: tuple[object, ...] | None = None
    current: list[chains.Link] = []
    prev_digest = ""
    for item in chains.links(session=session, device_id=device.id, runs=runs):
        if item.id > horizon:
            break
        prunable = False
        if item.channel == "telemetry":
            state = state_of(fields, item.payload)
            changed = state != last_state
            last_state = state
            prunable = (
                not changed
                and item.ts < cutoff
                and item.id != newest
                and not protected.covers(item.id, item.ts)
            )
            if not prunable and item.ts < cutoff:
                report.kept += 1
        contiguous = bool(current) and not item.pruned and item.prev == current[-1].digest
        if current and (not prunable or not contiguous or len(current) >= most):
            yield _run(device, prev_digest, current)
            current = []
        if prunable:
            if not current:
                prev_digest = item.prev
            current.append(item)
    if current:
        yield _run(device, prev_digest, current)


def _run(device: Device, prev: str, links: list[chains.Link]) -> PlannedRun:
    return PlannedRun(
        device_id=device.id,
        site_id=device.site_id,
        first_position=links[0].position,
        prev=prev,
        last=links[-1].digest,
        first_ts=links[0].ts,
        last_ts=links[-1].ts,
        ids=tuple(link.id for link in links),
    )


def _sign(run: PlannedRun, keyring: Keyring) -> tuple[str, str]:
    record = {
        "count": run.count,
        "device_id": run.device_id,
        "first_position": run.first_position,
        "key_id": keyring.current,
        "last": run.last,
        "prev": run.prev,
        "site": run.site_id,
    }
    return keyring.current, keyring.sign(pruned_statement(record))


def prune_site(
    *,
    sessions: sessionmaker[Session],
    site_id: str,
    policy: RetentionPolicy,
    keyring: Keyring,
    now: datetime,
    dry_run: bool = False,
    report: PruneReport | None = None,
) -> PruneReport:
    """Prune the site's old telemetry in batches (or, `dry_run`, count what would go)."""
    report = report or PruneReport(dry_run=dry_run)
    with sessions() as session:
        devices = [
            d
            for d in session.scalars(
                select(Device).where(Device.site_id == site_id).order_by(Device.id)
            )
            if policy.cutoff(d.kind, now) is not None
        ]
        session.expunge_all()
        if not devices:
            return report
        earliest = min(c for d in devices if (c := policy.cutoff(d.kind, now)) is not None)
        guards = protection(
            session=session,
            site_id=site_id,
            device_ids=[d.id for d in devices],
            before=earliest,
            now=now,
        )
    keys = {kid: key.public_key for kid, key in keyring.public_keys().items()}
    for device in devices:
        cutoff = policy.cutoff(device.kind, now)
        assert cutoff is not None
        with sessions() as session:  # read and closed before writing: SQLite has one writer
            runs, _problems = chains.pruned_runs(session=session, device_id=device.id, keys=keys)
            planned = list(
                plan_device(
                    session=session,
                    device=device,
                    cutoff=cutoff,
                    protected=guards[device.id],
                    runs=runs,
                    report=report,
                    most=policy.batch,
                )
            )
        # Positions are the chain's own, whatever was pruned before, so the runs of one plan
        # may be written in several transactions.
        pending: list[PlannedRun] = []
        for run in planned:
            report.per_kind[device.kind] = report.per_kind.get(device.kind, 0) + run.count
            pending.append(run)
            if sum(r.count for r in pending) >= policy.batch:
                _commit(sessions, site_id, pending, keyring, now, dry_run, report)
                pending = []
        if pending:
            _commit(sessions, site_id, pending, keyring, now, dry_run, report)
    return report


def _commit(
    sessions: sessionmaker[Session],
    site_id: str,
    planned: list[PlannedRun],
    keyring: Keyring,
    now: datetime,
    dry_run: bool,
    report: PruneReport,
) -> None:
    """One batch: a checkpoint of the site as it stands, then the runs recorded and deleted."""
    report.batches += 1
    report.runs += len(planned)
    if dry_run:
        report.pruned += sum(r.count for r in planned)
        return
    signatures = [_sign(r, keyring) for r in planned]
    for attempt in range(1, 4):
        try:
            with session_scope(sessions) as session:
                checkpoint = checkpoints.make(
                    session=session, site_id=site_id, keyring=keyring, now=now
                )
                deleted = apply(
                    session=session,
                    runs=planned,
                    signatures=signatures,
                    checkpoint_id=checkpoint.id,
                    now=now,
                )
        except IntegrityError:
            # The checkpoint job took the same sequence number meanwhile: sign the next one.
            if attempt == 3:
                raise
            continue
        report.checkpoints += 1
        report.pruned += deleted
        return


def prune_all(
    *,
    sessions: sessionmaker[Session],
    policy: RetentionPolicy,
    keyring: Keyring,
    now: datetime,
    dry_run: bool = False,
    site_ids: Sequence[str] | None = None,
) -> PruneReport:
    """Prune every site (or the given ones)."""
    report = PruneReport(dry_run=dry_run)
    if not policy.days:
        return report
    with sessions() as session:
        sites = (
            list(site_ids)
            if site_ids
            else sorted(set(session.scalars(select(Device.site_id).distinct())))
        )
    for site_id in sites:
        prune_site(
            sessions=sessions,
            site_id=site_id,
            policy=policy,
            keyring=keyring,
            now=now,
            dry_run=dry_run,
            report=report,
        )
    return report
