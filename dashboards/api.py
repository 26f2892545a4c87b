"""The pages read and act through the hub's own JSON API, in process, as the signed-in user.

A page is a view of what the API answers for the user's token: the same site scoping, the
same access matrix, the same validation and errors, and no second copy of any domain
rule. The calls go through the application in memory (no network, no second server).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from hub.api.deps import SHARED, Shared

# httpx logs every request at INFO: a line per API call a page makes is noise in the log.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class ApiError(Exception):
    """The API refused: its status and its error's code and message."""

    status: int
    code: str
    message: str


class Api:
    """The API as one user sees it.

    The calls are part of the page's request: they carry its `Shared` context, so they
    take no admission place of their own, use the page's database session (one pooled
    connection at a time) and authenticate the user once for the whole page.
    """

    def __init__(self, request: Request, headers: dict[str, str]) -> None:
        """`headers` carry the user's credential: `Authorization: Bearer`, or the session
        cookie with its CSRF token. The calls come from the request's own client address,
        which the hub's throttle of failed checks counts by."""
        shared: Shared | None = request.scope.get(SHARED)  # set by `hub.api.admission`
        app = request.app

        async def within_page(scope: Scope, receive: Receive, send: Send) -> None:
            if shared is not None:
                scope[SHARED] = shared
            await app(scope, receive, send)

        client = (request.client.host, request.client.port) if request.client else None
        root = str(request.scope.get("root_path", "")).rstrip("/")
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=within_page, client=client or ("?", 0)),
            base_url=f"http://hub{root}/api/v1",
            headers=headers,
            trust_env=False,
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """The API's raw answer."""
        return await self._client.request(method, path, params=params, json=json)

    async def forward(
        self, method: str, path: str, *, content: Any = None, content_type: str | None = None
    ) -> httpx.Response:
        """The API's raw answer to a body handed on as it streams in (an upload)."""
        headers = {"Content-Type": content_type} if content_type else {}
        return await self._client.request(method, path, content=content, headers=headers)

    async def get(self, path: str, **params: Any) -> Any:
        """GET `path` as JSON; None values are left out; ApiError on refusal."""
        query = {k: v for k, v in params.items() if v is not None}
        return _json(await self.call("GET", path, params=query))

    async def get_or_none(self, path: str, **params: Any) -> Any:
        """Like `get`, but None where the route does not exist (yet) or the role may not."""
        try:
            return await self.get(path, **params)
        except ApiError as exc:
            if exc.status in (403, 404):
                return None
            raise

    async def post(self, path: str, body: Any) -> Any:
        """POST `body` to `path`; the JSON answer, or ApiError."""
        return _json(await self.call("POST", path, json=body))


def _json(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            raise ApiError(response.status_code, str(error["code"]), str(error["message"]))
        except (ValueError, KeyError, TypeError):
            raise ApiError(response.status_code, "error", response.text[:200]) from None
    return response.json()
