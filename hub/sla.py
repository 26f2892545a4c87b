"""Per-step SLA deadlines shared by work orders and complaints.

A deadline row belongs to one step in one cycle (a reopening starts a new cycle). These
functions hold the rules both domains follow: meeting a step stamps `met_at` and tells
whether it was late; leaving a hold moves every pending deadline later by the time held;
a watchdog flags a pending deadline once, with `breached_at` set to its due time. What a
breach does to its case (history, escalation level) stays with the domain. `remark` is
the history entry both kinds of case take when something happens that does not move them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

logger = logging.getLogger(__name__)


class DeadlineRow(Protocol):
    """The columns a per-step deadline row has in every domain."""

    step: str
    cycle: int
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    breached_at: datetime | None


D = TypeVar("D", bound=DeadlineRow)


def is_pending(deadline: DeadlineRow) -> bool:
    """Neither met nor flagged yet: the clock is still running."""
    return deadline.met_at is None and deadline.breached_at is None


def meet(deadlines: Iterable[D], *, step: str, cycle: int, now: datetime) -> list[D]:
    """Stamp the unmet deadlines of `step` in `cycle` as met; return those met late, unflagged."""
    late: list[D] = []
    for deadline in deadlines:
        if deadline.step == step and deadline.cycle == cycle and deadline.met_at is None:
            deadline.met_at = now
            if now > deadline.due_at and deadline.breached_at is None:
                late.append(deadline)
    return late


def flag(deadline: DeadlineRow) -> None:
    """Mark a deadline breached; the breach counts from its due time, not from its discovery."""
    deadline.breached_at = deadline.due_at


def hold_ended(
    deadlines: Iterable[DeadlineRow], *, hold_started_at: datetime, now: datetime
) -> timedelta:
    """Leave a hold: pending deadlines move later by the time held, which is returned."""
    held = now - hold_started_at
    for deadline in deadlines:
        if is_pending(deadline):
            deadline.due_at += held
    return held


def effective_due(
    deadline: DeadlineRow, *, hold_started_at: datetime | None, now: datetime
) -> datetime:
    """When a deadline falls due, counting an ongoing hold as paused time."""
    if is_pending(deadline) and hold_started_at is not None:
        return deadline.due_at + (now - hold_started_at)
    return deadline.due_at


class DeadlineOut(BaseModel):
    """One step's deadline in the current cycle, as the API shows it."""

    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    breached: bool
    breached_at: datetime | None


def current_deadlines(
    deadlines: Iterable[D], *, due: Callable[[D], datetime]
) -> dict[str, DeadlineOut]:
    """Each step's deadline of the latest cycle (`deadlines` in id order), due as `due` says."""
    return {
        d.step: DeadlineOut(
            started_at=d.started_at,
            due_at=due(d),
            met_at=d.met_at,
            breached=d.breached_at is not None,
            breached_at=d.breached_at,
        )
        for d in deadlines
    }


def overdue(deadlines: Iterable[D], *, cycle: int, now: datetime) -> list[D]:
    """Pending deadlines of `cycle` whose due time has passed."""
    return [d for d in deadlines if d.cycle == cycle and is_pending(d) and d.due_at < now]


class Case(Protocol):
    """What a breach or a remark touches on its case (a work order, a complaint)."""

    id: int
    status: str
    escalation_level: int

    @property
    def history(self) -> list[Any]:
        """The case's recorded events."""
        ...


def remark(
    case: Case, event: Callable[..., Any], *, action: str, actor: str, at: datetime, note: str
) -> None:
    """Record on the case's history an event that does not move it (from = to = its status).

    `event` builds the domain's history row.
    """
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


def breach(
    case: Case,
    deadline: DeadlineRow,
    *,
    event: Callable[..., Any],
    label: str,
    actor: str,
    now: datetime,
) -> None:
    """Flag a missed deadline: raise the case's escalation level and record `sla_breach`.

    `event` builds the domain's history row; `label` names the case in the log.
    """
    flag(deadline)
    case.escalation_level += 1
    remark(
        case,
        event,
        action="sla_breach",
        actor=actor,
        at=now,
        note=f"{deadline.step} deadline {deadline.due_at.isoformat()} missed",
    )
    logger.warning(
        "%s %s missed its %s deadline (escalation %s)",
        label,
        case.id,
        deadline.step,
        case.escalation_level,
    )
