"""The desk's reactions to a committed batch, as an after-commit sink of the bridge.

A batch that raised an alarm or opened an order hands them to `hub.correlation.flows.react`
on the sink's own thread, in a transaction of its own: a notice for the residents goes up
and the complaints that came before the sensors are linked back within the second, not at
the next `correlation_watch` run. The job stays as the safety net (a sink drops batches
when it falls behind, and a process may die between commit and sink); each fact is
reacted to once, whichever gets to it first.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from bridges.sinks import Sink
from hub.clock import Clock
from hub.correlation.flows import Committed, Policies, react
from hub.db import session_scope
from hub.signals.changes import AlarmChangeKind, Changes

logger = logging.getLogger(__name__)

_RAISED = frozenset({AlarmChangeKind.raised, AlarmChangeKind.reopened})


def desk_reactions(sessions: sessionmaker[Session], policies: Policies, clock: Clock) -> Sink:
    """A sink reacting to each batch's raised alarms and opened orders."""

    def sink(changes: Changes) -> None:
        facts = Committed(
            raised_alarm_ids=[a.alarm_id for a in changes.alarms if a.change in _RAISED],
            opened_order_ids=[o.order_id for o in changes.orders],
        )
        if not facts.raised_alarm_ids and not facts.opened_order_ids:
            return
        with session_scope(sessions) as session:
            done = react(session=session, facts=facts, policies=policies, now=clock.now())
        if done.notices or done.links:
            logger.info("desk reactions: %d notice(s), %d link(s)", done.notices, done.links)

    return sink
