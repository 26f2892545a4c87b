"""Turns: batches in progress at once that still lock and acknowledge in arrival order.

The bridge's batchers each take a batch with a ticket. While one batch waits for the
database, the next is decoded and evaluated. Two steps keep the order of the tickets:

- `lock`: a batch locks its devices' chain heads only after the batch before it has
  locked its own. A device in both batches is then written by the earlier one first, and
  the later one reads the head the earlier one committed.
- `ack`: a batch acknowledges only after the batch before it has. MQTT wants QoS 1
  acknowledgements in the order the messages arrived.

Every ticket passes every gate exactly once, in ticket order, whatever happens to its
batch: a failed batch still passes, so the ones after it never wait forever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


class Turns:
    """Tickets handed out in order, and gates that the tickets pass in that order."""

    def __init__(self, gates: Sequence[str]) -> None:
        self._cond = threading.Condition()
        self._issued = 0
        self._passed = dict.fromkeys(gates, 0)
        """Per gate: how many tickets have passed (so the next to pass is this number)."""

    def issue(self) -> int:
        """The next ticket."""
        with self._cond:
            ticket = self._issued
            self._issued += 1
            return ticket

    def passed(self, gate: str) -> int:
        """How many tickets have passed `gate`."""
        with self._cond:
            return self._passed[gate]

    def wait(self, gate: str, ticket: int) -> None:
        """Block until every earlier ticket has passed `gate` (or `ticket` has itself)."""
        with self._cond:
            self._cond.wait_for(lambda: self._passed[gate] >= ticket)

    def pass_(self, gate: str, ticket: int) -> None:
        """`ticket` passes `gate`, after every earlier ticket; passing again does nothing."""
        with self._cond:
            self._cond.wait_for(lambda: self._passed[gate] >= ticket)
            if self._passed[gate] == ticket:
                self._passed[gate] = ticket + 1
                self._cond.notify_all()

    @contextmanager
    def turn(self, gate: str, ticket: int) -> Iterator[None]:
        """Hold `gate` for `ticket`: enter once every earlier ticket passed, pass on exit."""
        self.wait(gate, ticket)
        try:
            yield
        finally:
            self.pass_(gate, ticket)
