"""How the API shows a case's deadlines, whatever its kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import BaseModel

from hub.cases.deadlines import D


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
