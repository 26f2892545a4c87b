"""Per-step SLA deadlines: the arithmetic every kind of case follows.

A deadline row belongs to one step in one cycle (a reopening starts a new cycle). Meeting a
step stamps `met_at` and tells whether it was late; leaving a hold moves every pending
deadline later by the time held; a watchdog flags a pending deadline once, with
`breached_at` set to its due time. What a breach does to its case is in `hub.cases.service`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


class DeadlineRow(Protocol):
    """The columns a per-step deadline row has in every kind of case."""

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


def overdue(deadlines: Iterable[D], *, cycle: int, now: datetime) -> list[D]:
    """Pending deadlines of `cycle` whose due time has passed."""
    return [d for d in deadlines if d.cycle == cycle and is_pending(d) and d.due_at < now]
