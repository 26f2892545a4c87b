"""Request bodies: the caller is authenticated before a byte of the body is read, and no
body is read past its route's limit.

FastAPI reads a route's body before it solves the route's dependencies, so without this a
request with no token would have its body read, parsed and answered 422 before the 401.
`GuardedBodies` authenticates every request to the API that has a body first (every API
route takes the caller): a refused token is answered at once, the body unread. The caller
it found is kept for the route (`get_principal` reuses it).

Every body has a limit, enforced while it is read (a 413 at the first byte past it, the
rest never read, nothing kept) and before, when the request declares a longer length:
`JSON_BODY_LIMIT`, unless the route declares its own, e.g. photos:
`@router.post("/attachments", openapi_extra=body_limit(UPLOAD_BODY_LIMIT))`.
(The framework's own `max_body_size` answers in plain text and before the 401: not used.)
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.deps import PRINCIPAL_KEY, request_principal, request_session
from hub.api.errors import error_body
from hub.auth.principal import Principal
from hub.errors import HubError

KiB = 1024
MiB = 1024 * KiB
JSON_BODY_LIMIT = 256 * KiB
"""The largest body of an ordinary route (JSON, a form): far above any the hub takes."""
UPLOAD_BODY_LIMIT = 10 * MiB
"""The largest body of a route that declares itself an upload (a photo)."""
BODY_LIMIT_KEY = "x-body-limit"


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _declared(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyTooLarge(HTTPException):
    """Raised while a body is read, at the first byte past the route's limit: a 413."""

    def __init__(self, limit: int) -> None:
        size = f"{limit // MiB} MB" if limit >= MiB else f"{limit // 1024} KB"
        super().__init__(413, f"the body is larger than this route takes (at most {size})")


def _limited(receive: Receive, limit: int) -> Receive:
    taken = 0

    async def counted() -> Message:
        nonlocal taken
        message = await receive()
        if message["type"] == "http.request":
            taken += len(message.get("body", b""))
            if taken > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def body_limit(limit: int) -> dict[str, Any]:
    """`openapi_extra` of a route that takes bodies up to `limit` bytes instead of
    `JSON_BODY_LIMIT` (the OpenAPI document shows it as `x-body-limit`)."""
    return {BODY_LIMIT_KEY: limit}


class GuardedBodies:
    """ASGI middleware: a request to the API with a body is authenticated before the body is
    read, refused at once when it declares more than its route takes, and refused while it
    is read at the first byte past that."""

    def __init__(self, app: ASGIApp, limit: int = JSON_BODY_LIMIT, prefix: str = "/api/") -> None:
        self.app = app
        self.limit = limit
        self.prefix = prefix
        self._limits: list[tuple[re.Pattern[str], str, int]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, check the declared length, then hand on with the body counted."""
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        if scope["path"].startswith(self.prefix):
            caller = await self._authenticate(scope)
            if isinstance(caller, HubError):
                await _refuse(send, caller)
                return
            scope[PRINCIPAL_KEY] = caller
        declared = _declared(scope)
        if declared is not None and declared > limit:
            await _refuse(send, BodyTooLarge(limit))
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _limited(receive, limit), watched)
        except BodyTooLarge as exc:
            if started:
                raise
            await _refuse(send, exc)

    def _limit(self, scope: Scope) -> int:
        """The route's own limit (`body_limit`), else the default."""
        if self._limits is None:
            app: FastAPI = scope["app"]
            self._limits = [
                (compile_path(path)[0], method.upper(), operation[BODY_LIMIT_KEY])
                for path, item in app.openapi().get("paths", {}).items()
                for method, operation in item.items()
                if isinstance(operation, dict) and BODY_LIMIT_KEY in operation
            ]
        path, method = scope["path"], scope["method"]
        for pattern, wanted, limit in self._limits:
            if method == wanted and pattern.match(path):
                return limit
        return self.limit

    async def _authenticate(self, scope: Scope) -> Principal | HubError:
        try:
            principal: Principal = await run_in_threadpool(_caller, Request(scope))
        except HubError as exc:
            return exc
        return principal


def _caller(request: Request) -> Principal:
    with request_session(request) as session:
        return request_principal(request, session)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _refuse(send: Send, refusal: HubError | BodyTooLarge) -> None:
    """Answer without reading the body (the connection then closes)."""
    if isinstance(refusal, HubError):
        status, extra = refusal.status_code, refusal.headers()
        body = orjson.dumps(error_body(refusal.code, refusal.message, refusal.details))
    else:
        status, extra = 413, {}
        body = orjson.dumps(error_body("too_large", str(refusal.detail)))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.lower().encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
