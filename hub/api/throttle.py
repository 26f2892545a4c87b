"""Failed credential checks counted per client address: past a few, that address waits.

Sign-in and every token or session check count here when they fail; an address with
`limit` failures within `window` is refused (429 with `Retry-After`) until the oldest of
them is older than the window, without its credential being checked at all. Successful
checks cost nothing. In memory, per process, bounded in the addresses it remembers.

Plumbing: it knows no domain.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta

LIMIT = 10
"""Failures an address may have within `WINDOW`."""
WINDOW = timedelta(minutes=1)
ADDRESSES = 10_000
"""Addresses remembered at most; the least recently failing are forgotten first."""


class Throttle:
    """Failures per client address in a sliding window."""

    def __init__(
        self, *, limit: int = LIMIT, window: timedelta = WINDOW, addresses: int = ADDRESSES
    ) -> None:
        self.limit = limit
        self.window = window
        self.addresses = addresses
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, address: str, now: datetime) -> int | None:
        """Seconds `address` must wait before its next check, or None when it may go on."""
        with self._lock:
            failures = self._failures.get(address)
            if failures is None:
                return None
            while failures and now - failures[0] >= self.window:
                failures.popleft()
            if not failures:
                del self._failures[address]
                return None
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil((failures[0] + self.window - now).total_seconds()))

    def failed(self, address: str, now: datetime) -> None:
        """Count a failed check from `address`."""
        with self._lock:
            failures = self._failures.pop(address, None) or deque(maxlen=self.limit)
            failures.append(now)
            self._failures[address] = failures
            while len(self._failures) > self.addresses:
                self._failures.popitem(last=False)
