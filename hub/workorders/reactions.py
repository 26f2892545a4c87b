"""What a work order's move sets off, whoever moved it: the reactions registered on the sessions.

A move has consequences in domains above work orders (a resolved order's notice comes down,
the complaints attached to it fall due for their callback; next, the parts used and the
forecasts). Those domains may not be imported here, and no caller of a move should have to
remember them. So each one registers a reaction once, at the edge that makes the hub's
sessions (`hub.wiring`: the app factory, the bridge, the scheduler):

    reactions.register(sessions, "notices", notices.flows.order_moved)

and `hub.workorders.service.transition` runs every reaction registered on its session, in
the order registered, in the transaction of the move: the route, the pages, the desk's
merge of a sensor order, the shut-off task, the jobs and the scheduler alike. A reaction
takes the session and the `Moved` fact, and flushes what it writes; it may not commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hub.workorders.models import WorkOrder

KEY = "fh_order_moved"
"""Where a session (and the sessionmaker that makes it) keeps its reactions, by name."""


@dataclass(frozen=True)
class Moved:
    """One move of a work order, as its reactions see it (the order already moved)."""

    order: WorkOrder
    source: str
    """The state it left."""
    target: str
    """The state it is in now."""
    action: str
    """The history action recorded (`moved`, `reopened`)."""
    actor: str
    now: datetime


Reaction = Callable[[Session, Moved], object]
"""What a domain does when an order moved; what it returns is not used."""


def _info(target: Session | sessionmaker[Session]) -> dict[str, Any]:
    if isinstance(target, Session):
        return target.info
    info: dict[str, Any] = target.kw.setdefault("info", {})
    return info


def register(target: Session | sessionmaker[Session], name: str, reaction: Reaction) -> None:
    """Run `reaction` on every move made in `target`'s sessions (a name registered again is
    replaced, so start-up may run twice)."""
    info = _info(target)
    info[KEY] = {**info.get(KEY, {}), name: reaction}


def registered(session: Session) -> Mapping[str, Reaction]:
    """The reactions of `session`, by name, in the order they run."""
    found: Mapping[str, Reaction] = session.info.get(KEY, {})
    return found


def run(session: Session, moved: Moved) -> None:
    """Run every reaction registered on `session` for this move."""
    for reaction in registered(session).values():
        reaction(session, moved)
