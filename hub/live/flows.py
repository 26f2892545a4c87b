"""What goes into the live-event log, and when.

Orders, alarms, complaints and notices change in many places: API routes, the bridge's
rule engine and order flow, the scheduler's watchdogs, the desk's reactions. Rather than
have each of them remember to announce its change, the log watches the hub's sessions
(`install`, on the sessionmaker the app, the bridge and the scheduler make): whatever
such an object a transaction flushed is written as an event *in that same transaction*,
just before it commits. So a page never hears of a change that rolled back, and never
misses one that committed, whichever process made it.

Device readings are the exception: they come by the thousand, so the bridge writes them
after its commit, one event per device and batch (`device_events`, run as an after-commit
sink in `bridges/live.py`), off the ingest path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from hub.alarms.models import Alarm
from hub.clock import Clock, SystemClock
from hub.complaints.models import Complaint
from hub.live.enums import EventType
from hub.live.service import append
from hub.notices.models import Notice
from hub.signals.changes import Changes
from hub.workorders.models import WorkOrder

_KEY = "fh_live"
_CLOCK = "fh_live_clock"
Watched = WorkOrder | Alarm | Complaint | Notice
_WATCHED = (WorkOrder, Alarm, Complaint, Notice)


def describe(obj: Watched) -> tuple[EventType, str, str, dict[str, Any]]:
    """The event of a changed object: its type, site, id and what a page shows at once."""
    if isinstance(obj, WorkOrder):
        data: dict[str, Any] = {
            "id": obj.id,
            "status": obj.status,
            "title": obj.title,
            "title_en": obj.title_en,
            "department": obj.department,
            "priority": obj.priority,
            "assignee": obj.assignee,
            "device_id": obj.device_id,
            "escalation_level": obj.escalation_level,
        }
        return EventType.work_order, obj.site_id, str(obj.id), data
    if isinstance(obj, Alarm):
        data = {
            "id": obj.id,
            "device_id": obj.device_id,
            "type": obj.type,
            "severity": obj.severity,
            "title": obj.title,
            "acked": obj.acked_at is not None,
            "cleared": obj.cleared_at is not None,
            "work_order_id": obj.work_order_id,
        }
        return EventType.alarm, obj.site_id, str(obj.id), data
    if isinstance(obj, Complaint):
        data = {
            "id": obj.id,
            "status": obj.status,
            "kind": obj.kind,
            "category": obj.category,
            "repeat": obj.repeat_of_id is not None,
        }
        return EventType.complaint, obj.site_id, str(obj.id), data
    data = {
        "id": obj.id,
        "work_order_id": obj.work_order_id,
        "title": obj.title,
        "title_en": obj.title_en,
        "active": obj.withdrawn_at is None,
    }
    return EventType.notice, obj.site_id, str(obj.id), data


def _pending(session: Session) -> dict[tuple[type, int], Watched]:
    found: dict[tuple[type, int], Watched] = session.info.setdefault(_KEY, {})
    return found


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    found = _pending(session)
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, _WATCHED) and obj.id is not None:
            found[(type(obj), obj.id)] = obj


def _before_commit(session: Session) -> None:
    if not session.info.get(_KEY) and not (session.new or session.dirty):
        return
    session.flush()
    found = session.info.pop(_KEY, None)
    if not found:
        return
    # An object flushed inside a savepoint that rolled back is transient again: skip it.
    live = [o for o in found.values() if inspect(o).persistent]
    clock: Clock = session.info.get(_CLOCK) or SystemClock()
    append(session=session, events=[describe(o) for o in live], at=clock.now())


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_KEY, None)


def install(target: Session | sessionmaker[Session], clock: Clock) -> None:
    """Record the watched changes of the sessions `target` makes (or of that one session),
    stamped with `clock`'s time. Idempotent; nothing is attached to the `Session` class."""
    info = target.info if isinstance(target, Session) else target.kw.setdefault("info", {})
    info[_CLOCK] = clock
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "before_commit", _before_commit)
        event.listen(target, "after_rollback", _forget)


def device_events(changes: Changes) -> Iterable[tuple[EventType, str, str, dict[str, Any]]]:
    """One `device` event per device of a committed ingest batch: its latest reading."""
    latest: dict[str, Any] = {}
    for s in changes.signals:
        latest[s.device_id] = s
    for device_id, s in latest.items():
        data = {
            "id": device_id,
            "kind": s.kind,
            "channel": s.channel,
            "type": s.type,
            "ts": s.ts.isoformat(),
            "values": s.payload,
        }
        yield EventType.device, s.site_id, device_id, data
