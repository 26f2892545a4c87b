"""Retention's statements: what the hub's records refer to, and the deletion of a run.

A signal is referred to when something a person may still ask about covers it:

- an alarm of its device: from 24 hours before it was raised (the window an order's
  evidence shows) until an hour after it cleared, or now;
- a work order of its device (directly or through an alarm) and a complaint of its place:
  the window their evidence timelines show, until they closed;
- a patrol entry on its device, or a discrepancy found against it: two hours before the
  observation until an hour after (what the cross-check reads);
- a correlation link naming it, and any evidence pack exported for its device (everything
  up to the export: the pack's window is not kept, so nothing it may hold is pruned).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.complaints.models import Complaint
from hub.correlation.models import CorrelationLink
from hub.evidence.models import Export
from hub.inspections.models import Discrepancy, Inspection, InspectionDevice
from hub.retention.models import PrunedRun
from hub.signals.models import Signal
from hub.workorders.models import WorkOrder

ALARM_BEFORE = timedelta(hours=24)
ALARM_AFTER = timedelta(hours=1)
PATROL_BEFORE = timedelta(hours=2)
PATROL_AFTER = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Protected:
    """What must stay of one device's signals: time windows and signals named outright."""

    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)

    def covers(self, signal_id: int, ts: datetime) -> bool:
        """Whether a signal is referred to."""
        return signal_id in self.ids or any(a <= ts <= b for a, b in self.windows)


def referred(*, session: Session, device_ids: Sequence[str], now: datetime) -> dict[str, Protected]:
    """Per device, the windows and signals the hub's records refer to (but complaints and
    orders, whose windows the evidence timelines compute: `hub.retention.flows`)."""
    found = {d: Protected() for d in device_ids}
    alarms = session.execute(
        select(Alarm.device_id, Alarm.raised_at, Alarm.cleared_at).where(
            Alarm.device_id.in_(device_ids)
        )
    )
    for device_id, raised, cleared in alarms:
        found[device_id].windows.append((raised - ALARM_BEFORE, (cleared or now) + ALARM_AFTER))
    observed: list[tuple[str | None, datetime]] = []
    for query in (
        select(Inspection.device_id, Inspection.observed_at).where(
            Inspection.device_id.in_(device_ids)
        ),
        select(InspectionDevice.device_id, Inspection.observed_at)
        .join(Inspection, Inspection.id == InspectionDevice.inspection_id)
        .where(InspectionDevice.device_id.in_(device_ids)),
        select(Discrepancy.device_id, Discrepancy.at).where(Discrepancy.device_id.in_(device_ids)),
    ):
        observed += [(device_id, at) for device_id, at in session.execute(query)]
    for seen, at in observed:
        if seen is not None and seen in found:
            found[seen].windows.append((at - PATROL_BEFORE, at + PATROL_AFTER))
    linked = session.execute(
        select(Signal.device_id, Signal.id)
        .join(CorrelationLink, CorrelationLink.target_id == Signal.id)
        .where(CorrelationLink.target_type == "signal", Signal.device_id.in_(device_ids))
    )
    for device_id, signal_id in linked:
        found[device_id].ids.add(int(signal_id))
    exported = session.execute(
        select(Export.subject_id, Export.created_at).where(
            Export.subject_type == "device", Export.subject_id.in_(device_ids)
        )
    )
    for device_id, at in exported:
        found[device_id].windows.append((EPOCH, at))
    return found


def open_cases(
    *, session: Session, site_id: str, before: datetime
) -> tuple[Sequence[WorkOrder], Sequence[Complaint]]:
    """The site's orders and complaints whose evidence windows start before `before`."""
    orders = session.scalars(
        select(WorkOrder).where(
            WorkOrder.site_id == site_id, WorkOrder.created_at < before + ALARM_BEFORE
        )
    ).all()
    complaints = session.scalars(
        select(Complaint).where(
            Complaint.site_id == site_id, Complaint.received_at < before + ALARM_BEFORE
        )
    ).all()
    return orders, complaints


@dataclass(frozen=True)
class PlannedRun:
    """Consecutive links of a chain to prune, with what the signed record says of them."""

    device_id: str
    site_id: str
    first_position: int
    prev: str
    last: str
    first_ts: datetime
    last_ts: datetime
    ids: tuple[int, ...]

    @property
    def count(self) -> int:
        """How many links the run holds."""
        return len(self.ids)


def apply(
    *,
    session: Session,
    runs: Iterable[PlannedRun],
    signatures: Sequence[tuple[str, str]],
    checkpoint_id: int | None,
    now: datetime,
) -> int:
    """Record each run with its signature (key id, signature) and delete its signals."""
    deleted = 0
    for run, (key_id, signature) in zip(runs, signatures, strict=True):
        session.add(
            PrunedRun(
                device_id=run.device_id,
                site_id=run.site_id,
                first_position=run.first_position,
                count=run.count,
                prev_digest=run.prev,
                last_digest=run.last,
                first_ts=run.first_ts,
                last_ts=run.last_ts,
                pruned_at=now,
                checkpoint_id=checkpoint_id,
                key_id=key_id,
                signature=signature,
            )
        )
        ids = list(run.ids)
        for start in range(0, len(ids), 1000):
            result = session.execute(delete(Signal).where(Signal.id.in_(ids[start : start + 1000])))
            deleted += int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    return deleted
