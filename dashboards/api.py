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

# httpx logs every request at INFO: a line per API call a page makes is noise in the log.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class ApiError(Exception):
    """The API refused: its status and its error's code and message."""

    status: int
    code: str
    message: str


class Api:
    """The API as one user sees it."""

    def __init__(self, request: Request, token: str) -> None:
        self._transport = httpx.ASGITransport(app=request.app)
        self._headers = {"Authorization": f"Bearer {token}"}
        root = str(request.scope.get("root_path", "")).rstrip("/")
        self._base = f"http://hub{root}/api/v1"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """The API's raw answer."""
        async with httpx.AsyncClient(
            transport=self._transport, base_url=self._base, headers=self._headers
        ) as client:
            return await client.request(method, path, params=params, json=json)

    async def forward(
        self, method: str, path: str, *, content: Any = None, content_type: str | None = None
    ) -> httpx.Response:
        """The API's raw answer to a body handed on as it streams in (an upload)."""
        headers = {"Content-Type": content_type} if content_type else {}
        async with httpx.AsyncClient(
            transport=self._transport, base_url=self._base, headers=self._headers
        ) as client:
            return await client.request(method, path, content=content, headers=headers)

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
