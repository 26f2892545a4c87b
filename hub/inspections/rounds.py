"""Rounds of a patrol route as cases: due until every checkpoint is walked, else missed.

A route's periods start when the route was created and last `interval_minutes` each; the
round of a period must be walked by the period's end plus the route's grace. The shared
SLA watchdog flags the deadline; `close_missed` then moves the flagged round to `missed`.
An entry at a checkpoint during the period (a late one too) marks it walked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.cases import service as cases
from hub.cases.moves import Move, MoveTable
from hub.cases.watchdog import CaseType
from hub.inspections.enums import RoundStatus, RoundStep
from hub.inspections.models import (
    Inspection,
    InspectionRound,
    InspectionRoute,
    RoundDeadline,
    RoundEvent,
    RouteCheckpoint,
)

logger = logging.getLogger(__name__)

S = RoundStatus
LABEL = "inspection round"
ACTOR = "hub"

MOVES: MoveTable[InspectionRound, None] = MoveTable(
    LABEL,
    RoundStatus,
    [
        Move(S.due, S.done, action="walked"),
        Move(S.due, S.missed, action="missed"),
        Move(S.missed, S.done, action="walked_late"),
    ],
)
"""A round is walked, or missed and perhaps walked late."""

CASES: CaseType[InspectionRound] = CaseType(
    label=LABEL,
    case=InspectionRound,
    deadline=RoundDeadline,
    parent=RoundDeadline.round,
    event=RoundEvent,
    running=frozenset({S.due}),
)
"""Rounds as the shared breach watchdog sees them."""


def period_of(route: InspectionRoute, at: datetime) -> tuple[datetime, datetime]:
    """The period of `route` that holds `at`."""
    length = timedelta(minutes=route.interval_minutes)
    index = max(0, (at - route.created_at) // length)
    start = route.created_at + index * length
    return start, start + length


def open_round(
    *, session: Session, route: InspectionRoute, start: datetime, now: datetime
) -> InspectionRound:
    """The round of the period starting at `start`, opened with its deadline if missing."""
    found = session.scalar(
        select(InspectionRound).where(
            InspectionRound.route_id == route.id, InspectionRound.period_start == start
        )
    )
    if found is not None:
        return found
    end = start + timedelta(minutes=route.interval_minutes)
    due = end + timedelta(minutes=route.grace_minutes)
    row = InspectionRound(
        site_id=route.site_id,
        route_id=route.id,
        status=S.due,
        period_start=start,
        period_end=end,
        visited=[],
        created_at=now,
        updated_at=now,
        hold_total_s=0,
        reopen_count=0,
        escalation_level=0,
    )
    row.history.append(RoundEvent(at=now, actor=ACTOR, action="opened", to_status=S.due, note=""))
    row.deadlines.append(RoundDeadline(step=RoundStep.walk, cycle=0, started_at=start, due_at=due))
    session.add(row)
    session.flush()
    return row


def _matches(checkpoint: RouteCheckpoint, inspection: Inspection) -> bool:
    if checkpoint.device_id is not None:
        return checkpoint.device_id == inspection.device_id
    return checkpoint.location_id is not None and checkpoint.location_id == inspection.location_id


def visit(*, session: Session, inspection: Inspection, now: datetime, zone: tzinfo = UTC) -> None:
    """Mark the checkpoints the entry walked in its rounds; a round fully walked is done."""
    query = select(InspectionRoute).where(
        InspectionRoute.site_id == inspection.site_id, InspectionRoute.active.is_(True)
    )
    if inspection.route_id is not None:
        query = query.where(InspectionRoute.id == inspection.route_id)
    for route in session.scalars(query):
        hits = [c.id for c in route.checkpoints if _matches(c, inspection)]
        if not hits or inspection.observed_at < route.created_at:
            continue
        start, _end = period_of(route, inspection.observed_at)
        row = open_round(session=session, route=route, start=start, now=now)
        row.visited = sorted(set(row.visited) | set(hits))
        row.updated_at = now
        if row.status != S.done and set(row.visited) >= {c.id for c in route.checkpoints}:
            _walked(row, now=now, at=inspection.observed_at, zone=zone)
    session.flush()


def _walked(row: InspectionRound, *, now: datetime, at: datetime, zone: tzinfo) -> None:
    move = MOVES.check(row, None, source=row.status, target=S.done, role=None)
    cases.record_move(
        row, RoundEvent, to=S.done, action=move.action, actor=ACTOR, now=now, note="",
        terminal=MOVES.terminal,
    )  # fmt: skip
    cases.meet(
        row, step=RoundStep.walk, now=at, event=RoundEvent, label=LABEL, actor=ACTOR, zone=zone
    )


def open_due(*, session: Session, now: datetime) -> int:
    """Open the current round of every active route (idempotent); how many were opened."""
    opened = 0
    for route in session.scalars(select(InspectionRoute).where(InspectionRoute.active.is_(True))):
        if now < route.created_at:
            continue
        start, _end = period_of(route, now)
        before = session.scalar(
            select(InspectionRound.id).where(
                InspectionRound.route_id == route.id, InspectionRound.period_start == start
            )
        )
        if before is None:
            open_round(session=session, route=route, start=start, now=now)
            opened += 1
    return opened


def close_missed(*, session: Session, now: datetime) -> Sequence[InspectionRound]:
    """Move every due round whose deadline was flagged to `missed`."""
    rows = session.scalars(
        select(InspectionRound)
        .join(RoundDeadline, RoundDeadline.round_id == InspectionRound.id)
        .where(InspectionRound.status == S.due, RoundDeadline.breached_at.is_not(None))
    ).all()
    for row in rows:
        MOVES.check(row, None, source=row.status, target=S.missed, role=None)
        cases.record_move(
            row, RoundEvent, to=S.missed, action="missed", actor=ACTOR, now=now,
            note=f"{len(row.visited)} of {len(row.route.checkpoints)} checkpoints walked",
            terminal=frozenset(),
        )  # fmt: skip
        logger.warning("inspection round %s of route %s missed", row.id, row.route.name)
    session.flush()
    return rows


def list_rounds(
    *, session: Session, site_ids: frozenset[str], statuses: Sequence[str] = (), limit: int = 200
) -> Sequence[InspectionRound]:
    """Rounds in the sites, newest period first."""
    query = select(InspectionRound).where(InspectionRound.site_id.in_(sorted(site_ids)))
    if statuses:
        query = query.where(or_(*(InspectionRound.status == s for s in statuses)))
    return session.scalars(
        query.order_by(InspectionRound.period_start.desc(), InspectionRound.id.desc()).limit(limit)
    ).all()
