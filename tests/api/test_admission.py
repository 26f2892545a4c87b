"""Pages and API requests under load: admission, refusal, hang-ups, one connection a page.

The hub is served by uvicorn on a loopback port (as `fhub serve` serves it), on each
database. A request is held in progress by the database itself (a lock the test takes) or by
a body that never arrives; `/metrics` (answered whatever the load) shows the admission's
counts, which the tests wait on within a bound — no assertion here is about time.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from hub.app import create_app
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import SystemClock
from hub.db import session_factory, session_scope
from hub.registry.enums import DeviceKind
from hub.registry.service import add_device, get_or_create_site
from hub.settings import Settings
from tests.bridges.conftest import free_port

SITE = "load-site"
DEVICE = "leak-load-1"


@dataclass
class Served:
    """A hub on a loopback port: its address, tokens, and what its engine was asked."""

    base: str
    port: int
    tokens: dict[Role, str]
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0
    held: int = 0
    most_held: int = 0

    def metric(self, name: str) -> float:
        """One of the admission's gauges (`fhub_http_{name}`) from `/metrics`."""
        body = httpx.get(f"{self.base}/metrics", timeout=10).text
        found = re.search(rf"^fhub_http_{name} (\S+)$", body, re.MULTILINE)
        return float(found.group(1)) if found else float("nan")

    def headers(self, role: Role) -> dict[str, str]:
        """The bearer header of the seeded user of `role`."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _seed(engine: Engine, pepper: str) -> dict[Role, str]:
    now = SystemClock().now()
    tokens: dict[Role, str] = {}
    with session_scope(session_factory(engine)) as session:
        get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=now)
        add_device(
            session=session, device_id=DEVICE, site_id=SITE, kind=DeviceKind.leak, now=now,
            name="2号楼5层管井", location_path="2/5/pipe-well",
        )  # fmt: skip
        for role in (Role.engineer, Role.front_desk, Role.manager):
            user = create_user(
                session=session, name=f"{role}-load", role=role, site_ids=[SITE], now=now
            )
            tokens[role] = issue_token(session=session, user=user, pepper=pepper, now=now)
    return tokens


@contextmanager
def serving(engine: Engine, tmp: Path, **options: Any) -> Iterator[Served]:
    """The hub on `engine` with `options` as settings, served until the block ends."""
    settings = Settings(data_dir=tmp, **options)
    tokens = _seed(engine, settings.token_pepper.get_secret_value())
    port = free_port()
    served = Served(f"http://127.0.0.1:{port}", port, tokens)

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        served.statements.append(sql)

    def checkout(*_args: Any) -> None:
        served.checkouts += 1
        served.held += 1
        served.most_held = max(served.most_held, served.held)

    def checkin(*_args: Any) -> None:
        served.held -= 1

    app = create_app(settings, engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                       timeout_graceful_shutdown=1)
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="admission-hub", daemon=True)
    thread.start()
    until(lambda: server.started, "uvicorn started")
    listeners: list[tuple[Any, str, Callable[..., None]]] = [
        (engine, "before_cursor_execute", statement),
        (engine.pool, "checkout", checkout),
        (engine.pool, "checkin", checkin),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield served
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
        server.should_exit = True
        thread.join(10)


def until(condition: Callable[[], bool], what: str, bound: float = 30.0) -> None:
    """Wait for `condition`, failing if it has not come within `bound` seconds."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def raw_request(port: int, head: str) -> socket.socket:
    """A connection that has sent `head` (request line and headers) and nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head.encode("latin-1"))
    return sock


@contextmanager
def database_lock(engine: Engine) -> Iterator[None]:
    """Hold the database so the hub's next token check waits: SQLite's write lock (every
    hub transaction begins IMMEDIATE), PostgreSQL's exclusive lock on `api_tokens`."""
    conn = engine.connect()
    try:
        if engine.dialect.name == "sqlite":
            tx = conn.begin()
        else:
            tx = conn.begin()
            conn.execute(text("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE"))
        yield
        tx.rollback()
    finally:
        conn.close()


def test_past_capacity_a_request_is_refused_with_retry_after(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    with serving(
        fresh_engine, tmp_path, web_in_flight=1, web_queue=0, web_retry_after_seconds=3
    ) as hub:
        # The only place is taken by a request whose body never comes (its caller is
        # checked first: a body is read only for someone the hub knows).
        held = raw_request(
            hub.port,
            "POST /api/v1/complaints HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json"
            f"\r\nAuthorization: Bearer {hub.tokens[Role.front_desk]}"
            "\r\nContent-Length: 100\r\n\r\n",
        )
        until(lambda: hub.metric("in_flight") == 1, "the held request admitted")

        api = httpx.get(f"{hub.base}/api/v1/me", headers=hub.headers(Role.manager), timeout=10)
        assert api.status_code == 503
        assert api.headers["retry-after"] == "3"
        assert api.json()["error"]["code"] == "busy"

        page = httpx.get(
            f"{hub.base}/engineer?lang=zh", headers=hub.headers(Role.engineer), timeout=10
        )
        assert page.status_code == 503
        assert page.headers["retry-after"] == "3"
        assert "系统繁忙" in page.text
        assert "busy" not in page.text
        english = httpx.get(
            f"{hub.base}/manager?lang=en", headers=hub.headers(Role.manager), timeout=10
        )
        assert "The hub is busy right now" in english.text
        assert hub.metric("refused") == 3

        # Probes answer whatever the load.
        assert httpx.get(f"{hub.base}/healthz", timeout=10).status_code == 200

        held.close()  # its client gone, the place is free again
        until(lambda: hub.metric("in_flight") == 0, "the place given back")
        again = httpx.get(f"{hub.base}/api/v1/me", headers=hub.headers(Role.manager), timeout=10)
        assert again.status_code == 200


def test_a_waiting_request_is_served_when_a_place_frees(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    with serving(fresh_engine, tmp_path, web_in_flight=1, web_queue=4) as hub:
        held = raw_request(
            hub.port,
            "POST /api/v1/complaints HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json"
            f"\r\nAuthorization: Bearer {hub.tokens[Role.front_desk]}"
            "\r\nContent-Length: 100\r\n\r\n",
        )
        until(lambda: hub.metric("in_flight") == 1, "the held request admitted")
        answers: list[int] = []
        waiter = threading.Thread(
            target=lambda: answers.append(
                httpx.get(
                    f"{hub.base}/api/v1/me", headers=hub.headers(Role.manager), timeout=30
                ).status_code
            )
        )
        waiter.start()
        until(lambda: hub.metric("queued") == 1, "the second request queued")
        held.close()
        waiter.join(30)
        assert answers == [200]


def test_a_request_that_waited_its_time_out_is_refused(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    with serving(fresh_engine, tmp_path, web_in_flight=1, web_queue=4, web_queue_seconds=0) as hub:
        held = raw_request(
            hub.port,
            "POST /api/v1/complaints HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json"
            f"\r\nAuthorization: Bearer {hub.tokens[Role.front_desk]}"
            "\r\nContent-Length: 100\r\n\r\n",
        )
        until(lambda: hub.metric("in_flight") == 1, "the held request admitted")
        late = httpx.get(f"{hub.base}/api/v1/me", headers=hub.headers(Role.manager), timeout=30)
        assert late.status_code == 503
        assert "retry-after" in late.headers
        assert hub.metric("queued") == 0
        held.close()


def test_an_abandoned_page_stops_being_worked_on(fresh_engine: Engine, tmp_path: Path) -> None:
    with serving(fresh_engine, tmp_path, web_in_flight=1, web_queue=8, web_queue_seconds=60) as hub:
        with database_lock(fresh_engine):
            hub.statements.clear()
            page = raw_request(
                hub.port,
                f"GET /engineer HTTP/1.1\r\nHost: hub\r\n"
                f"Authorization: Bearer {hub.tokens[Role.engineer]}\r\n\r\n",
            )
            # The page's token check waits on the lock; its client hangs up.
            until(lambda: len(hub.statements) > 0, "the page reached the database")
            page.close()
            until(lambda: hub.metric("abandoned") == 1, "the hang-up seen")
        # Behind the page in the queue: answered once the abandoned page let go.
        me = httpx.get(f"{hub.base}/api/v1/me", headers=hub.headers(Role.manager), timeout=60)
        assert me.status_code == 200
        worked = " ".join(hub.statements)
        assert not re.search(r"\b(devices|alarms|work_orders)\b", worked), worked
        assert hub.metric("in_flight") == 0


PAGES = [
    (Role.engineer, "/engineer"),
    (Role.engineer, f"/engineer/devices/{DEVICE}"),
    (Role.engineer, "/engineer/orders"),
    (Role.front_desk, "/desk"),
    (Role.manager, "/manager"),
]


@pytest.mark.parametrize(("role", "path"), PAGES)
def test_a_page_takes_one_connection_and_checks_the_token_once(
    fresh_engine: Engine, tmp_path: Path, role: Role, path: str
) -> None:
    with serving(fresh_engine, tmp_path) as hub:
        assert httpx.get(f"{hub.base}{path}", headers=hub.headers(role), timeout=30).is_success
        hub.statements.clear()
        hub.checkouts = hub.most_held = 0
        page = httpx.get(f"{hub.base}{path}", headers=hub.headers(role), timeout=30)
        assert page.status_code == 200, page.text
        token_checks = [s for s in hub.statements if re.search(r"\bapi_tokens\b", s)]
        assert len(token_checks) == 1, token_checks
        assert hub.checkouts == 1
        assert hub.most_held == 1


def test_live_streams_are_counted_apart_and_hold_no_connection(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    with serving(fresh_engine, tmp_path, web_in_flight=1, web_queue=0, web_streams=2) as hub:
        held = raw_request(
            hub.port,
            "POST /api/v1/complaints HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json"
            f"\r\nAuthorization: Bearer {hub.tokens[Role.front_desk]}"
            "\r\nContent-Length: 100\r\n\r\n",
        )
        until(lambda: hub.metric("in_flight") == 1, "the held request admitted")
        url, headers = f"{hub.base}/api/v1/stream", hub.headers(Role.manager)
        with (
            httpx.stream("GET", url, headers=headers, timeout=30) as one,
            httpx.stream("GET", url, headers=headers, timeout=30) as two,
        ):
            # Pages at capacity: streams still open, and keep no pooled connection.
            assert (one.status_code, two.status_code) == (200, 200)
            until(lambda: hub.metric("streams") == 2, "the streams counted")
            assert hub.held == 0
            third = httpx.get(url, headers=headers, timeout=30)
            assert third.status_code == 503
            assert third.headers["retry-after"] == "2"
        held.close()


def test_the_pool_is_sized_from_the_settings(tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, db_pool_size=3, db_pool_overflow=1, db_pool_timeout_seconds=4)
    )
    pool = app.state.engine.pool
    assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 1, 4)
    app.state.engine.dispose()


@pytest.mark.parametrize(
    "bad",
    [
        {"web_in_flight": 0},
        {"web_queue": -1},
        {"web_queue_seconds": -1},
        {"web_retry_after_seconds": 0},
        {"web_streams": 0},
        {"db_pool_size": 0},
        {"db_pool_overflow": -1},
        {"db_pool_timeout_seconds": 0},
    ],
)
def test_capacity_settings_out_of_range_are_refused(tmp_path: Path, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Settings(data_dir=tmp_path, **bad)
