"""What an ingest batch did, for whoever acts on it once it is committed.

`ingest_batch` returns its `Changes`: the signals it accepted, the alarms it raised,
reopened or cleared, the work orders it opened. The bridge hands them to its sinks after
the commit, never for a batch that rolled back (`bridges.sinks`).

Alarms and orders change deep in the rule engine and the order flow, on several paths
(state rules, events, availability). Rather than thread a collector through all of them,
a batch watches its own session's flushes while it runs (`tracking`, a listener on that
session for the batch's time, none on SQLAlchemy's `Session` class): every such change is
flushed before the batch ends, and a flush that fails (a raise lost to a racing writer,
inside its savepoint) reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from hub.alarms.models import Alarm
from hub.workorders.models import WorkOrder

_KEY = "fh_changes"


class AlarmChangeKind(StrEnum):
    """What happened to an alarm."""

    raised = "raised"
    reopened = "reopened"
    cleared = "cleared"


@dataclass(frozen=True, slots=True)
class AcceptedSignal:
    """A signal the batch stored."""

    device_id: str
    site_id: str
    kind: str
    channel: str
    type: str | None
    ts: datetime
    payload: dict[str, Any]
    digest: str


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """An alarm the batch raised, reopened or cleared (`at`: when that happened)."""

    change: AlarmChangeKind
    alarm_id: int
    site_id: str
    device_id: str
    type: str
    severity: str
    at: datetime
    work_order_id: int | None


@dataclass(frozen=True, slots=True)
class OrderOpened:
    """A work order the batch opened."""

    order_id: int
    site_id: str
    device_id: str | None
    department: str
    priority: str
    title: str
    created_at: datetime


@dataclass(frozen=True)
class Changes:
    """Everything a batch did, in the order it did it."""

    signals: tuple[AcceptedSignal, ...] = ()
    alarms: tuple[AlarmChange, ...] = ()
    orders: tuple[OrderOpened, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.signals or self.alarms or self.orders)


@dataclass
class Tracker:
    """The alarm and order changes seen in a session's flushes."""

    alarms: list[tuple[AlarmChangeKind, Alarm, datetime]] = field(default_factory=list)
    orders: list[WorkOrder] = field(default_factory=list)

    def changes(self, signals: Sequence[dict[str, Any]]) -> Changes:
        """The batch's changes; alarms carry the order they ended up with."""
        return Changes(
            signals=tuple(
                AcceptedSignal(
                    r["device_id"],
                    r["site_id"],
                    r["kind"],
                    r["channel"],
                    r["type"],
                    r["ts"],
                    r["payload"],
                    r["digest"],
                )
                for r in signals
            ),
            alarms=tuple(
                AlarmChange(
                    kind, a.id, a.site_id, a.device_id, a.type, a.severity, at, a.work_order_id
                )
                for kind, a, at in self.alarms
            ),
            orders=tuple(
                OrderOpened(
                    o.id, o.site_id, o.device_id, o.department, o.priority, o.title, o.created_at
                )
                for o in self.orders
            ),
        )


@contextmanager
def tracking(session: Session) -> Iterator[Tracker]:
    """Record the alarm and order changes `session` flushes inside the block."""
    tracker = Tracker()
    session.info[_KEY] = tracker
    event.listen(session, "after_flush", _after_flush)
    try:
        yield tracker
    finally:
        event.remove(session, "after_flush", _after_flush)
        session.info.pop(_KEY, None)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    tracker: Tracker | None = session.info.get(_KEY)
    if tracker is None:
        return
    for obj in session.new:  # still the flush's view of the objects: new, dirty, history
        if isinstance(obj, Alarm):
            tracker.alarms.append((AlarmChangeKind.raised, obj, obj.raised_at))
        elif isinstance(obj, WorkOrder):
            tracker.orders.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Alarm):
            cleared = inspect(obj).attrs.cleared_at.history
            if not cleared.added:
                continue
            if cleared.added[0] is None and cleared.deleted and cleared.deleted[0] is not None:
                tracker.alarms.append((AlarmChangeKind.reopened, obj, obj.last_seen_at))
            elif cleared.added[0] is not None and not (cleared.deleted and cleared.deleted[0]):
                tracker.alarms.append((AlarmChangeKind.cleared, obj, cleared.added[0]))
