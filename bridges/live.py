"""The bridge's after-commit sink for the web pages: each batch's devices as live events.

Device readings are the bulk of the traffic, so they are not written inside the ingest
transaction (`hub.live.flows` does that for orders and alarms): the sink writes one event
per device and batch, in a short transaction of its own on its own thread, and once every
`PRUNE_SECONDS` drops events older than a day. A batch the sink drops when it falls
behind costs a page one reading, not a state: the next reading carries the device's state.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from bridges.sinks import Sink
from hub.clock import Clock
from hub.db import session_scope
from hub.live import service
from hub.live.flows import device_events, install
from hub.signals.changes import Changes

PRUNE_SECONDS = 300.0


def live_sink(sessions: sessionmaker[Session], clock: Clock) -> Sink:
    """A sink writing each committed batch's device readings to the live-event log."""
    install(sessions, clock)  # the orders and alarms the bridge changes, in their transactions
    pruned_at = time.monotonic()

    def sink(changes: Changes) -> None:
        nonlocal pruned_at
        events = list(device_events(changes))
        if not events:
            return
        now = clock.now()
        with session_scope(sessions) as session:
            service.append(session=session, events=events, at=now)
            if time.monotonic() - pruned_at > PRUNE_SECONDS:
                pruned_at = time.monotonic()
                service.prune(session=session, now=now)

    return sink
