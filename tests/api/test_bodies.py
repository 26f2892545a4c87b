"""Bodies: the caller is authenticated before the body is read, and no body is read past
its route's limit (413) — on both databases, through the ASGI interface, counting what the
app took of the body."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.types import Message

from hub.api.bodies import JSON_BODY_LIMIT, UPLOAD_BODY_LIMIT, MiB, body_limit
from hub.api.deps import PrincipalDep, get_session
from hub.app import create_app
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.settings import Settings
from tests.conftest import SITE

CHUNK = 64 * 1024


@dataclass
class Sent:
    """A request's body as a client streams it, and what the app read of it."""

    chunks: int
    chunk: bytes = b"x" * CHUNK
    read: int = 0
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self) -> Message:
        if self.read >= self.chunks:  # as a server does: the client leaves once answered
            await self.answered.wait()
            return {"type": "http.disconnect"}
        self.read += 1
        return {
            "type": "http.request",
            "body": self.chunk,
            "more_body": self.read < self.chunks,
        }

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                self.answered.set()


def _post(
    app: FastAPI,
    path: str,
    sent: Sent,
    *,
    token: str | None = None,
    length: int | None = None,
) -> Sent:
    headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, sent.receive, sent.send))
    return sent


def test_no_token_is_a_401_before_the_body_is_read(app: FastAPI) -> None:
    sent = _post(app, "/api/v1/complaints", Sent(chunks=1024), length=1024 * CHUNK)
    assert sent.status == 401
    assert sent.headers["www-authenticate"] == "Bearer"
    assert orjson.loads(sent.body)["error"]["code"] == "unauthorized"
    assert sent.read == 0


def test_a_wrong_token_is_a_401_before_the_body_is_read(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    make_token(Role.manager)
    sent = _post(app, "/api/v1/work-orders", Sent(chunks=16), token="fh_nosuchtoken", length=None)
    assert sent.status == 401
    assert sent.read == 0


def test_a_declared_length_past_the_limit_is_a_413_unread(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    sent = _post(app, "/api/v1/complaints", Sent(chunks=16384), token=token, length=2**30)
    assert sent.status == 413
    assert orjson.loads(sent.body)["error"]["code"] == "too_large"
    assert sent.read == 0


def test_a_streamed_body_is_refused_while_it_is_read(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    sent = _post(app, "/api/v1/complaints", Sent(chunks=16384), token=token)
    assert sent.status == 413
    assert sent.read * CHUNK <= JSON_BODY_LIMIT + CHUNK


def test_a_body_within_the_limit_is_read_after_the_token(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    body = orjson.dumps({"site": SITE, "content": "3号楼12层漏水"})
    sent = _post(
        app, "/api/v1/complaints", Sent(chunks=1, chunk=body), token=token, length=len(body)
    )
    assert sent.status == 201, sent.body


def test_a_route_declares_its_own_larger_limit(
    engine: Engine,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    make_token: Callable[..., str],
) -> None:
    app = create_app(settings, engine=engine, clock=clock)
    app.dependency_overrides[get_session] = lambda: db

    @app.post("/api/v1/test-upload", openapi_extra=body_limit(UPLOAD_BODY_LIMIT))
    def upload(principal: PrincipalDep, body: dict[str, str]) -> dict[str, int]:
        return {"size": len(body["photo"])}

    token = make_token(Role.manager)
    photo = orjson.dumps({"photo": "p" * (2 * MiB)})
    taken = _post(app, "/api/v1/test-upload", Sent(1, photo), token=token, length=len(photo))
    assert taken.status == 200, taken.body
    refused = _post(app, "/api/v1/complaints", Sent(1, photo), token=token, length=len(photo))
    assert refused.status == 413
    unread = _post(app, "/api/v1/test-upload", Sent(200), token=token, length=200 * CHUNK)
    assert (unread.status, unread.read) == (413, 0)
    streamed = _post(app, "/api/v1/test-upload", Sent(200), token=token)
    assert streamed.status == 413
    assert streamed.read * CHUNK <= UPLOAD_BODY_LIMIT + CHUNK
    assert app.openapi()["paths"]["/api/v1/test-upload"]["post"]["x-body-limit"] == 10 * MiB


@pytest.mark.parametrize("path", ["/api/v1/work-orders", "/api/v1/complaints"])
def test_the_413_is_declared(app: FastAPI, path: str) -> None:
    assert "413" in app.openapi()["paths"][path]["post"]["responses"]
