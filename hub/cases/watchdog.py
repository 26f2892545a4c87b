"""One breach watchdog for every kind of case.

A kind describes itself once as a `CaseType` (its tables, its history row, the states in
which its clock runs); the watchdog flags every pending deadline now past due, once, in the
case's current cycle, and raises the case's escalation level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute, Session, selectinload

from hub.cases import deadlines, service

C = TypeVar("C")

ACTOR = "sla-watchdog"


@dataclass(frozen=True)
class CaseType(Generic[C]):
    """A kind of case as the shared machinery sees it."""

    label: str
    case: type[C]
    deadline: type[Any]
    """The kind's deadline table (`hub.cases.models.CaseDeadlineColumns` and its `step`)."""
    parent: QueryableAttribute[Any]
    """The deadline's relationship to its case (e.g. `Deadline.order`)."""
    event: service.EventFactory
    running: frozenset[str]
    """The states in which the case's clock runs (open ones, not on hold)."""


def flag_breaches(
    *, session: Session, kind: CaseType[C], now: datetime, zone: tzinfo = UTC
) -> list[C]:
    """Flag every pending deadline of `kind` now past due; return the cases touched.

    Notes show times in `zone`.
    """
    table, cases = kind.deadline, cast(Any, kind.case)
    rows = session.scalars(
        select(table)
        .join(kind.parent)
        .where(
            table.met_at.is_(None),
            table.breached_at.is_(None),
            table.due_at < now,
            cases.status.in_(sorted(kind.running)),
        )
        .options(selectinload(kind.parent))
    ).all()
    touched: dict[int, C] = {}
    for deadline in rows:
        owner: C = getattr(deadline, kind.parent.key)
        case = cast(service.Case, owner)
        if not deadlines.overdue([deadline], cycle=case.reopen_count, now=now):
            continue
        service.breach(
            case,
            deadline,
            event=kind.event,
            label=kind.label,
            actor=ACTOR,
            now=now,
            zone=zone,
        )
        case.updated_at = now
        touched[case.id] = owner
    session.flush()
    return list(touched.values())


def flag_all(
    *, session: Session, kinds: Iterable[CaseType[Any]], now: datetime, zone: tzinfo = UTC
) -> dict[str, int]:
    """Run the watchdog over every kind; how many cases of each it flagged."""
    return {
        kind.label: len(flag_breaches(session=session, kind=kind, now=now, zone=zone))
        for kind in kinds
    }
