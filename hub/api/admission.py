"""Admission: how many requests the process works on at once, and what happens past that.

A page or API request takes one of `web_in_flight` places; past them it waits in a queue of
`web_queue` for at most `web_queue_seconds`, and past that it is refused at once with 503
and `Retry-After` instead of piling up until nothing answers in time. Live streams are
counted apart (`web_streams`): they stay open for long and cost little while they wait.
A request whose client hangs up before its answer is sent stops being worked on (it is
cancelled at its next await: a database call already running finishes first), and it
gives its place to the next one, so the backlog of an overload ends when the load does.

The API calls a page makes in process (`dashboards/api.py`) are part of the page's work:
they carry the page's `Shared` context (`hub.api.deps`) and take no place of their own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.deps import SHARED, Shared
from hub.api.errors import error_body
from hub.health import Health
from hub.settings import Settings

STREAM_PATH = "/api/v1/stream"
UNCOUNTED = ("/healthz", "/metrics")
"""Probes answer whatever the load: they are how an operator sees it."""

Refusal = Callable[[Request, int], Awaitable[Response]]
"""Builds the 503 for a request (a page in the person's language); gets Retry-After seconds."""


class Gate:
    """`limit` places and a first-come queue of at most `queue` waiting `wait` seconds each."""

    def __init__(self, limit: int, queue: int, wait: float) -> None:
        self.limit, self.queue, self.wait = limit, queue, wait
        self.taken = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Requests in the queue now."""
        return len(self._waiting)

    async def enter(self) -> bool:
        """Take a place (True), or False when the queue is full or the wait ran out."""
        if self.taken < self.limit and not self._waiting:
            self.taken += 1
            return True
        if len(self._waiting) >= self.queue:
            return False
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        try:
            with anyio.move_on_after(self.wait):
                await asyncio.shield(ticket)
        except BaseException:
            self._drop(ticket)  # cancelled while waiting (the client hung up)
            raise
        if ticket.done():
            return True
        self._drop(ticket)
        return False

    def _drop(self, ticket: asyncio.Future[None]) -> None:
        """Leave the queue; a place handed over meanwhile passes on."""
        if ticket.done():
            self.leave()
        else:
            self._waiting.remove(ticket)
            ticket.cancel()

    def leave(self) -> None:
        """Give the place to the first in the queue, or free it."""
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.done():
                ticket.set_result(None)  # the place passes on: `taken` stays
                return
        self.taken -= 1


@dataclass
class _Gates:
    settings: Settings
    work: Gate
    streams: Gate
    refused: int = 0
    abandoned: int = 0

    def report(self) -> dict[str, int]:
        """The `http` probe of `/readyz` and `/metrics` (`fhub_http_*`)."""
        return {
            "in_flight": self.work.taken,
            "queued": self.work.waiting,
            "streams": self.streams.taken,
            "refused": self.refused,
            "abandoned": self.abandoned,
        }


class Admission:
    """ASGI middleware: the gates in front of the app, and cancellation on hang-up."""

    def __init__(self, app: ASGIApp, refuse_page: Refusal | None = None) -> None:
        self.app = app
        self.refuse_page = refuse_page
        self._gates: _Gates | None = None

    def gates(self, state: State) -> _Gates:
        """The gates for the app's settings (made again when the app is given others)."""
        settings: Settings = state.settings
        if self._gates is None or self._gates.settings is not settings:
            self._gates = _Gates(
                settings,
                Gate(settings.web_in_flight, settings.web_queue, settings.web_queue_seconds),
                Gate(settings.web_streams, 0, 0),
            )
            health: Health = state.health
            health.register("http", self._gates.report)
        return self._gates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit, queue or refuse a request from outside; pass an in-process call through."""
        if scope["type"] != "http" or SHARED in scope or scope["path"] in UNCOUNTED:
            await self.app(scope, receive, send)
            return
        gates = self.gates(scope["app"].state)
        stream = scope["path"] == STREAM_PATH
        gate = gates.streams if stream else gates.work
        if stream:  # no shared connection: a stream would hold it for its whole life
            await self._stream(gate, scope, receive, send)
            return
        scope[SHARED] = shared = Shared()
        try:
            await _Call(self, gates, gate, scope, receive, send).run()
        finally:
            if shared.busy:  # the connection goes back to the pool: a rollback, off the loop
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(shared.close)

    async def _stream(self, gate: Gate, scope: Scope, receive: Receive, send: Send) -> None:
        """A live stream: its own count, no queue (the stream watches its client itself)."""
        if not await gate.enter():
            await self.refuse(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave()

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """503 with Retry-After: JSON for the API, a page for the pages."""
        assert self._gates is not None
        self._gates.refused += 1
        retry = self._gates.settings.web_retry_after_seconds
        request = Request(scope, receive)
        if self.refuse_page is not None and not scope["path"].startswith("/api/"):
            response = await self.refuse_page(request, retry)
        else:
            response = JSONResponse(
                error_body("busy", "the hub is busy: try again shortly"), status_code=503
            )
        response.headers["Retry-After"] = str(retry)
        await response(scope, receive, send)


class _Call:
    """One admitted (or queued) request, cancelled if its client hangs up before the answer."""

    def __init__(
        self,
        owner: Admission,
        gates: _Gates,
        gate: Gate,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        self.owner, self.gates, self.gate, self.scope = owner, gates, gate, scope
        self._receive, self._send = receive, send
        self.answered = False
        self.gone = asyncio.Event()
        self._news = asyncio.Event()
        self._held: deque[Message] = deque()
        self._watching = not _has_body(scope)
        self._watch_now = asyncio.Event()
        if self._watching:
            self._watch_now.set()

    async def run(self) -> None:
        """Wait for a place while watching the client; work; give the place back."""
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._watch, tasks.cancel_scope)
            try:
                await self._admitted()
            finally:
                tasks.cancel_scope.cancel()

    async def _admitted(self) -> None:
        if not await self.gate.enter():
            await self.owner.refuse(self.scope, self.receive, self.send)
            return
        try:
            await self.owner.app(self.scope, self.receive, self.send)
        finally:
            self.gate.leave()

    async def _watch(self, scope: anyio.CancelScope) -> None:
        """Read the client's side once the body is in: a hang-up cancels the work."""
        await self._watch_now.wait()
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.gone.set()
                self._news.set()
                if not self.answered:
                    self.gates.abandoned += 1
                    scope.cancel()
                return
            self._held.append(message)
            self._news.set()

    async def receive(self) -> Message:
        """The app's receive: the body as it comes, then a hang-up when the watcher sees one."""
        if not self._watching:
            message = await self._receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                self._watching = True
                self._watch_now.set()
            return message
        while not self._held and not self.gone.is_set():
            self._news.clear()
            await self._news.wait()
        if self._held:
            return self._held.popleft()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """The app's send; the answer complete, a hang-up no longer cancels anything."""
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.answered = True
        await self._send(message)


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
    return False
