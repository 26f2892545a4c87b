"""The timed work of patrol logs: open each route's current round, close the missed ones,
and re-check entries that a late sensor message speaks about.

The ingest batch does not call into patrol logs (signals know no inspections): a message
whose `ts` falls before an existing entry is found here, by the entries whose window holds
a signal stored after they were checked. `recheck_devices` is the same re-check for a
caller that knows which devices sent late messages (an after-commit hook of ingest).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from hub.alarms.rules import RuleBook
from hub.inspections import rounds, service

logger = logging.getLogger(__name__)


@dataclass
class WatchResult:
    """What one run did."""

    opened: int = 0
    missed: int = 0
    rechecked: int = 0
    discrepancies: int = 0


def recheck_devices(
    *,
    session: Session,
    earliest: dict[str, datetime],
    now: datetime,
    zone: tzinfo,
    rules: RuleBook | None = None,
) -> int:
    """Re-check the entries whose window holds each device's earliest late `ts`; how many."""
    entries = service.entries_for_devices(session=session, earliest=earliest)
    for inspection in entries:
        service.check_entry(session=session, inspection=inspection, now=now, zone=zone, rules=rules)
    return len(entries)


def watch(
    *, session: Session, now: datetime, zone: tzinfo, rules: RuleBook | None = None
) -> WatchResult:
    """Rounds opened and missed, stale entries re-checked; the caller commits."""
    result = WatchResult()
    result.opened = rounds.open_due(session=session, now=now)
    result.missed = len(rounds.close_missed(session=session, now=now))
    for inspection in service.stale_entries(session=session, now=now):
        before = len(inspection.discrepancies)
        found = service.check_entry(
            session=session, inspection=inspection, now=now, zone=zone, rules=rules
        )
        result.rechecked += 1
        result.discrepancies += len(found) - before
        if len(found) != before:
            logger.info(
                "inspection %s re-checked after a late message: %d discrepancies (was %d)",
                inspection.id,
                len(found),
                before,
            )
    return result
