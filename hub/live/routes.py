"""`GET /api/v1/stream`: the live events of the caller's sites, as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from hub.api.deps import SettingsDep
from hub.errors import NotFound
from hub.live import service
from hub.live.deps import FollowerDep, StreamPrincipalDep
from hub.live.service import Event

router = APIRouter(tags=["live"])

REPLAY_LIMIT = 1000
"""Events replayed on resume at most; past that the page is told to reload (`reset`)."""

_DESCRIPTION = (
    "Server-Sent Events: `alarm`, `work_order`, `complaint`, `device`, `notice`, each with "
    "its id (send it back as `Last-Event-ID` to resume) and JSON data `{site, ref, at, ...}`; "
    "`reset` when a resume reaches too far back (reload the page); a comment every "
    "`FH_STREAM_PING_SECONDS` as a heartbeat."
)


def _sse(ev: Event) -> ServerSentEvent:
    data = {"site": ev.site_id, "ref": ev.ref, "at": ev.at.isoformat(), **ev.data}
    return ServerSentEvent(id=str(ev.id), event=ev.type, data=json.dumps(data, ensure_ascii=False))


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": _DESCRIPTION}},
)
async def stream(
    request: Request,
    principal: StreamPrincipalDep,
    follower: FollowerDep,
    settings: SettingsDep,
    site: Annotated[
        str | None, Query(max_length=64, description="One of the caller's sites.")
    ] = None,
    last_event_id: Annotated[
        int | None,
        Header(alias="Last-Event-ID", ge=0, le=2**63 - 1, description="Resume after this id."),
    ] = None,
) -> EventSourceResponse:
    """Changes in the caller's sites as they commit, from whichever process made them."""
    if site is not None and not principal.sees(site):
        raise NotFound(f"site {site} not found")
    sites = frozenset({site}) if site is not None else principal.site_ids
    sessions = request.app.state.sessions
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.stream_max_seconds

    def backlog(after_id: int) -> list[Event]:
        session = sessions()
        try:
            return service.after(
                session=session, after_id=after_id, site_ids=sites, limit=REPLAY_LIMIT
            )
        finally:
            session.close()

    async def events() -> AsyncIterator[ServerSentEvent]:
        sub = follower.subscribe(sites)  # before the backlog is read: nothing falls between
        try:
            yield ServerSentEvent(comment="connected", retry=2000)
            replayed: set[int] = set()
            if last_event_id is not None:
                old = await to_thread.run_sync(backlog, last_event_id)
                if len(old) >= REPLAY_LIMIT:
                    yield ServerSentEvent(event="reset", data="{}")
                else:
                    for ev in old:
                        replayed.add(ev.id)
                        yield _sse(ev)
            while (left := deadline - loop.time()) > 0:
                try:
                    item: Event | None = await asyncio.wait_for(sub.queue.get(), left)
                except TimeoutError:
                    break
                if item is None:
                    break
                ev = item
                if ev.id not in replayed:
                    yield _sse(ev)
        finally:
            follower.unsubscribe(sub)

    return EventSourceResponse(events(), ping=settings.stream_ping_seconds)
