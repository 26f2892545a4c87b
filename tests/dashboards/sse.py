"""A Server-Sent Events reader for tests: reads a stream on a thread, keeps what it got."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.bridges.conftest import wait_for


@dataclass
class Received:
    """One event as the stream sent it."""

    id: int | None
    event: str
    data: dict[str, Any]


@dataclass
class StreamReader:
    """Reads `GET /api/v1/stream` until closed; `events` and `comments` grow as it reads."""

    base: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    events: list[Received] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    status: int | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert wait_for(lambda: "connected" in self.comments or self.status not in (None, 200), 10)

    def _run(self) -> None:
        client = httpx.Client(base_url=self.base, timeout=httpx.Timeout(5, read=30))
        with (
            client,
            client.stream("GET", "/api/v1/stream", headers=self.headers, params=self.params) as r,
        ):
            self.status = r.status_code
            if r.status_code != 200:
                return
            current: dict[str, str] = {}
            for line in r.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif not line:
                    if "event" in current:
                        self.events.append(
                            Received(
                                int(current["id"]) if "id" in current else None,
                                current["event"],
                                json.loads(current.get("data") or "{}"),
                            )
                        )
                    current = {}
                else:
                    key, _, value = line.partition(":")
                    current[key] = value.removeprefix(" ")

    def of(self, event: str) -> list[Received]:
        """The events of one type so far."""
        return [e for e in self.events if e.event == event]

    def close(self) -> None:
        """Stop reading (the thread ends at the next line: a heartbeat at the latest)."""
        self._stop.set()
