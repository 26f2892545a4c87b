"""Path and query parameters as both databases can take them, and a guard for raw URLs.

Ids in paths are INTEGER columns: beyond 2³¹−1 PostgreSQL fails the comparison, so such a
path is a 422 naming the parameter. NUL or a lone surrogate anywhere in the path or the
query string is refused before routing, whatever the parameter's type.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

import orjson
from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.api.errors import error_body, query_names
from hub.inputs import INT32_MAX, unstorable

IdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The object's id.")]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX, description="Rows to skip.")]
SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Site and device ids: the `{site}` and `{device}` of MQTT topics (CONTRACT.md §1)."""
DeviceIdPath = Annotated[str, Path(pattern=SLUG, description="The device's id, as in its topics.")]


class StorableUrls:
    """ASGI middleware: a request whose path or query holds unstorable text is a 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the URL of an HTTP request, then hand it on."""
        if scope["type"] == "http":
            why = self._problem(scope)
            if why is not None:
                await _refuse(send, why)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _problem(scope: Scope) -> tuple[str, str] | None:
        path: str = scope.get("path", "")
        if (why := unstorable(path)) is not None:
            return "path", why
        query = scope.get("query_string", b"").decode("latin-1")
        for part in query.split("&"):
            name, _, value = part.partition("=")
            for text in (name, value):
                decoded = unquote(text.replace("+", " "), errors="replace")
                if (why := unstorable(decoded)) is not None:
                    return unquote(name, errors="replace") or "query", why
        return None


async def _refuse(send: Send, problem: tuple[str, str]) -> None:
    field, why = problem
    body = orjson.dumps(
        error_body("validation_error", f"{field}: {why}", [{"field": field, "message": why}])
    )
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_KNOWN: dict[int, frozenset[str]] = {}


async def known_query_only(request: Request) -> None:
    """Refuse a query parameter the route does not take: a typo'd filter is a 422 naming it,
    never a silently unfiltered answer. (No I/O: run on the loop, not in a thread.)"""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _KNOWN.get(id(route))
    if known is None:
        known = _KNOWN[id(route)] = query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown parameter"}
                for name in unknown
            ]
        )
