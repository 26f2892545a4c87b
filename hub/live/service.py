"""Writing and reading the live-event log."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hub.live.enums import EventType
from hub.live.models import LiveEvent

RETENTION = timedelta(hours=24)
"""How long events are kept: long enough for any page to resume, short enough to stay small."""


@dataclass(frozen=True, slots=True)
class Event:
    """A live event as the stream sends it."""

    id: int
    site_id: str
    type: str
    ref: str
    data: dict[str, Any]
    at: datetime


def append(
    *, session: Session, events: Sequence[tuple[EventType, str, str, dict[str, Any]]], at: datetime
) -> None:
    """Add `(type, site, ref, data)` events in the session's transaction."""
    if not events:
        return
    session.execute(
        insert(LiveEvent),
        [
            {"type": str(t), "site_id": site, "ref": ref, "data": data, "at": at}
            for t, site, ref, data in events
        ],
    )


def _event(row: LiveEvent) -> Event:
    return Event(row.id, row.site_id, row.type, row.ref, row.data, row.at)


def after(
    *, session: Session, after_id: int, site_ids: Collection[str] | None = None, limit: int = 1000
) -> list[Event]:
    """Events with an id above `after_id`, oldest first (only `site_ids`' when given)."""
    stmt = select(LiveEvent).where(LiveEvent.id > after_id)
    if site_ids is not None:
        stmt = stmt.where(LiveEvent.site_id.in_(sorted(site_ids)))
    rows = session.scalars(stmt.order_by(LiveEvent.id).limit(limit))
    return [_event(r) for r in rows]


def by_ids(*, session: Session, ids: Collection[int]) -> list[Event]:
    """The events of `ids` that are committed by now (a gap filled late)."""
    if not ids:
        return []
    rows = session.scalars(
        select(LiveEvent).where(LiveEvent.id.in_(sorted(ids))).order_by(LiveEvent.id)
    )
    return [_event(r) for r in rows]


def last_id(*, session: Session) -> int:
    """The highest id written so far (0 on an empty log)."""
    return int(session.scalar(select(func.max(LiveEvent.id))) or 0)


def prune(*, session: Session, now: datetime) -> int:
    """Drop events older than the retention; returns how many."""
    result = session.execute(delete(LiveEvent).where(LiveEvent.at < now - RETENTION))
    return int(getattr(result, "rowcount", 0) or 0)
