"""After-commit sinks: whatever acts on a committed batch, isolated from ingest.

Each committed batch's `Changes` (accepted signals, alarms raised, reopened or cleared,
orders opened) go to every registered sink: the InfluxDB writer, the web live stream,
resident notices. A sink is a plain callable; each runs on a thread of its own behind a
bounded queue, so it can be slow, fail or hang without holding back the batcher (after
Alerta's plugin hooks, whose errors are logged and never stop an alert):

- handing a batch over never blocks: a full queue drops it and counts the drop;
- a sink that raises is logged and counted, and gets the next batch as usual;
- batches reach a sink in the order they were committed and acknowledged.

Only committed batches are handed over: a batch that rolled back never reaches a sink,
and one retried message by message reaches them as the retries commit.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.signals.changes import Changes

logger = logging.getLogger(__name__)

Sink = Callable[[Changes], None]
"""Called with each committed batch's changes, on the sink's own thread."""

SINK_QUEUE = 1000
"""Batches a sink may have waiting before further ones are dropped."""


@dataclass
class SinkStats:
    """What happened to the batches handed to one sink."""

    delivered: int = 0
    failed: int = 0
    dropped: int = 0


class _Runner:
    """One sink, its queue and its thread."""

    def __init__(
        self, name: str, sink: Sink, capacity: int, close: Callable[[float], None] | None = None
    ) -> None:
        self.name = name
        self.sink = sink
        self.close = close
        self.stats = SinkStats()
        self._queue: queue.Queue[Changes] = queue.Queue(capacity)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fhub-sink-{name}", daemon=True)
        self._thread.start()

    def offer(self, changes: Changes) -> None:
        try:
            self._queue.put_nowait(changes)
        except queue.Full:
            self.stats.dropped += 1
            dropped = self.stats.dropped
            if dropped in (1, 10, 100) or dropped % 1000 == 0:
                logger.warning("sink %s is behind: %d batches dropped", self.name, dropped)

    def _run(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            try:
                changes = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.sink(changes)
            except Exception:
                self.stats.failed += 1
                logger.exception("sink %s failed on a batch", self.name)
            else:
                self.stats.delivered += 1

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            left = self._queue.qsize()
            logger.warning("sink %s did not finish; %d batches left", self.name, left)
        if self.close is not None:
            self.close(timeout)


class Sinks:
    """The registered sinks of a bridge."""

    def __init__(self) -> None:
        self._runners: dict[str, _Runner] = {}
        self.offered = 0
        """Batches handed over (to every sink)."""

    def add(
        self,
        name: str,
        sink: Sink,
        *,
        capacity: int = SINK_QUEUE,
        close: Callable[[float], None] | None = None,
    ) -> SinkStats:
        """Register `sink` under `name`; returns its live counters.

        `close`, if given, is called with the time left once the sink has had its last
        batch (a sink with a writer of its own flushes there).
        """
        if name in self._runners:
            raise ValueError(f"a sink named {name!r} is registered already")
        runner = _Runner(name, sink, capacity, close)
        self._runners[name] = runner
        return runner.stats

    def stats(self) -> dict[str, SinkStats]:
        """Each sink's counters."""
        return {name: runner.stats for name, runner in self._runners.items()}

    def offer(self, changes: Changes) -> None:
        """Hand a committed batch to every sink without waiting for any of them."""
        if not self._runners or not changes:
            return
        self.offered += 1
        for runner in list(self._runners.values()):
            runner.offer(changes)

    def stop(self, timeout: float) -> None:
        """Let the sinks finish what they hold, for up to `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        for runner in self._runners.values():
            runner.stop(max(0.0, deadline - time.monotonic()))
