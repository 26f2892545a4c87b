"""One follower of the live-event log per API process, fanned out to its open streams.

However many pages are connected, a process reads the log once per poll (`POLL_SECONDS`)
and hands each event to the streams whose user may see its site; a stream whose reader
falls too far behind is closed, and its page reconnects and resumes from its last id.

Ids come from the database in the order rows were inserted, which on PostgreSQL is not
quite the order transactions commit: a transaction that took id 41 may commit after the
one that took 42. So the follower remembers the ids it skipped over (gaps) and looks for
them again for `GAP_SECONDS` before it lets them go (a rolled-back insert never fills).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from anyio import to_thread
from sqlalchemy.orm import Session

from hub.live import service
from hub.live.service import Event

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
GAP_SECONDS = 10.0
QUEUE_SIZE = 2000
"""Events a stream may have waiting before it is closed (its page resumes by id)."""


@dataclass(eq=False)
class Subscriber:
    """One open stream: the sites it may see and the events waiting for it."""

    site_ids: frozenset[str]
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        """Queue `event` if its site is in scope; close the stream if it is too far behind."""
        if event.site_id not in self.site_ids or self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class Follower:
    """Follows the log by id and hands new events to the subscribers of this process."""

    def __init__(self, sessions: Callable[[], Session], poll: float = POLL_SECONDS) -> None:
        self._sessions = sessions
        self._poll = poll
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._high = -1
        self._gaps: dict[int, float] = {}

    @property
    def subscribers(self) -> int:
        """Streams open in this process."""
        return len(self._subscribers)

    def subscribe(self, site_ids: Collection[str]) -> Subscriber:
        """A new stream over `site_ids`; starts following the log if nobody was."""
        sub = Subscriber(frozenset(site_ids))
        self._subscribers.add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a closed stream."""
        self._subscribers.discard(sub)

    async def _run(self) -> None:
        while self._subscribers:
            try:
                events = await to_thread.run_sync(self.read_new)
            except Exception:
                logger.exception("reading the live-event log failed; trying again")
                events = []
            for ev in events:
                for sub in list(self._subscribers):
                    sub.offer(ev)
            await asyncio.sleep(self._poll)
        self._task = None

    def read_new(self) -> list[Event]:
        """The events committed since the last read, late commits below it included."""
        session = self._sessions()
        try:
            if self._high < 0:
                self._high = service.last_id(session=session)
                return []
            filled = service.by_ids(session=session, ids=list(self._gaps))
            fresh = service.after(session=session, after_id=self._high)
        finally:
            session.rollback()
            session.close()
        now = time.monotonic()
        for ev in filled:
            self._gaps.pop(ev.id, None)
        expected = self._high + 1
        for ev in fresh:
            for missing in range(expected, ev.id):
                self._gaps[missing] = now
            expected = ev.id + 1
        if fresh:
            self._high = fresh[-1].id
        for gap, since in list(self._gaps.items()):
            if now - since > GAP_SECONDS:
                del self._gaps[gap]
        return sorted([*filled, *fresh], key=lambda e: e.id)

    async def stop(self) -> None:
        """Stop following (the app shuts down)."""
        for sub in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)
        self._subscribers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
