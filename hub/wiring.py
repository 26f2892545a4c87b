"""What the hub's edges switch on in the sessions they make: the reactions to a work order's
move, and the live-event log.

The app factory (`hub.app.configure`), the scheduler (`hub.scheduler.start_scheduler`) and
the bridge (`fhub serve --bridge`) each pass their sessionmaker through `wire` at start-up,
so whatever moves an order in those sessions — a route, a page, the desk's merge, the
shut-off task, a job — sets off the same reactions, in its own transaction. Nothing is
attached to SQLAlchemy's `Session` class: a session made elsewhere stays plain.

A further reaction to an order's move is one line in `order_reactions`:

    reactions.register(target, "parts", parts_flows.order_moved)

where `order_moved(session, moved)` takes the session and the `hub.workorders.reactions.Moved`
fact, and flushes what it writes.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session, sessionmaker

import hub.models  # noqa: F401 - every table known before these sessions flush
from hub.clock import Clock
from hub.complaints import flows as desk_flows
from hub.complaints.policy import ComplaintPolicy
from hub.live import flows as live_flows
from hub.notices import flows as notice_flows
from hub.parts import flows as parts_flows
from hub.settings import Settings
from hub.workorders import reactions

Target = Session | sessionmaker[Session]


def order_reactions(target: Target, settings: Settings) -> None:
    """Register what every move of a work order sets off, in the order it runs."""
    desk = ComplaintPolicy.from_settings(settings)
    reactions.register(target, "notices", notice_flows.order_moved)
    reactions.register(target, "callbacks", partial(desk_flows.callbacks_due, policy=desk))
    reactions.register(target, "parts", parts_flows.order_moved)


def wire(
    sessions: sessionmaker[Session], *, settings: Settings, clock: Clock
) -> sessionmaker[Session]:
    """The hub's sessions: order moves set off their reactions, and what the watched objects
    commit goes to the live-event log at `clock`'s time. Idempotent; returns `sessions`."""
    order_reactions(sessions, settings)
    live_flows.install(sessions, clock)
    return sessions
