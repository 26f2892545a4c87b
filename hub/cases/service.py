"""What every kind of case does the same way: record its history, hold and resume, breach.

Each kind's service decides which move to make and what it does to its deadlines; these
functions are the steps they share, on any case with the columns of
`hub.cases.models.CaseColumns`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hub.cases import deadlines
from hub.cases.deadlines import DeadlineRow
from hub.localtime import shown

logger = logging.getLogger(__name__)

EventFactory = Callable[..., Any]
"""The kind's history row class (`WorkOrderEvent`, `ComplaintEvent`, ...)."""


class Case(Protocol):
    """The columns and collections a case has in every kind."""

    id: int
    status: str
    held_from: str | None
    hold_reason: str | None
    hold_started_at: datetime | None
    hold_total_s: int
    reopen_count: int
    escalation_level: int
    updated_at: datetime
    closed_at: datetime | None

    @property
    def history(self) -> list[Any]:
        """The case's recorded events."""
        ...

    @property
    def deadlines(self) -> Sequence[DeadlineRow]:
        """The case's deadline rows, every cycle."""
        ...


def remark(
    case: Case, event: EventFactory, *, action: str, actor: str, at: datetime, note: str
) -> None:
    """Record on the case's history an event that does not move it (from = to = its status)."""
    case.history.append(
        event(
            at=at,
            actor=actor,
            action=action,
            from_status=case.status,
            to_status=case.status,
            note=note,
        )
    )


def record_move(
    case: Case,
    event: EventFactory,
    *,
    to: str,
    action: str,
    actor: str,
    now: datetime,
    note: str,
    terminal: frozenset[str],
) -> None:
    """Put the case in `to` and record who moved it, when, from where and why."""
    current = case.status
    if to in terminal:
        case.closed_at = now
    case.status = to
    case.updated_at = now
    case.history.append(
        event(at=now, actor=actor, action=action, from_status=current, to_status=to, note=note)
    )


def move(
    session: Session,
    case: Case,
    event: EventFactory,
    *,
    to: str,
    action: str,
    actor: str,
    now: datetime,
    note: str,
    hold: str,
    terminal: frozenset[str],
    deadlines: Callable[[], None],
) -> None:
    """The tail every kind's move shares, once the kind checked the move and set its fields.

    Leaving `hold` shifts the pending deadlines by the time held, entering it remembers
    why (`note`); then the kind's own deadline work (`deadlines`: meet the step reached,
    start the next), then the move is recorded and flushed.
    """
    if case.status == hold:
        leave_hold(case, now=now)
    if to == hold:
        enter_hold(case, reason=note, now=now)
    deadlines()
    record_move(
        case, event, to=to, action=action, actor=actor, now=now, note=note, terminal=terminal
    )
    session.flush()


def enter_hold(case: Case, *, reason: str, now: datetime) -> None:
    """Put the case's clock on hold: it remembers where it resumes and why it waits."""
    case.held_from = case.status
    case.hold_reason = reason
    case.hold_started_at = now


def leave_hold(case: Case, *, now: datetime) -> None:
    """Resume: pending deadlines move later by the time held, which adds to the total."""
    if case.hold_started_at is None:
        raise ValueError(f"case {case.id} is not on hold")
    held = deadlines.hold_ended(case.deadlines, hold_started_at=case.hold_started_at, now=now)
    case.hold_total_s += int(held.total_seconds())
    case.held_from = None
    case.hold_reason = None
    case.hold_started_at = None


def breach(
    case: Case,
    deadline: DeadlineRow,
    *,
    event: EventFactory,
    label: str,
    actor: str,
    now: datetime,
    zone: tzinfo = UTC,
) -> None:
    """Flag a missed deadline: raise the case's escalation level and record `sla_breach`.

    The note shows the due time in `zone`, the local time people read.
    """
    deadlines.flag(deadline)
    case.escalation_level += 1
    remark(
        case,
        event,
        action="sla_breach",
        actor=actor,
        at=now,
        note=f"{deadline.step} deadline {shown(deadline.due_at, zone)} missed",
    )
    logger.warning(
        "%s %s missed its %s deadline (escalation %s)",
        label,
        case.id,
        deadline.step,
        case.escalation_level,
    )


def meet(
    case: Case,
    *,
    step: str,
    now: datetime,
    event: EventFactory,
    label: str,
    actor: str,
    zone: tzinfo = UTC,
) -> None:
    """The case reached `step` in its current cycle: stamp the deadline, breach it if late."""
    late = deadlines.meet(case.deadlines, step=step, cycle=case.reopen_count, now=now)
    for deadline in late:
        breach(case, deadline, event=event, label=label, actor=actor, now=now, zone=zone)
