"""A live hub for the page tests: the API and pages served by uvicorn on a loopback port,
the bridge on the embedded broker with its live and desk sinks, two sites and a user of
each role, as `fhub demo` runs them (minus the simulators: the tests publish themselves).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridges.broker import EmbeddedBroker
from bridges.live import live_sink
from bridges.mqtt import Bridge, new_client_id
from bridges.reactions import desk_reactions
from hub import migrate
from hub.app import create_app
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import SystemClock
from hub.correlation.flows import Policies
from hub.db import make_engine, session_factory, session_scope
from hub.registry.enums import DeviceKind
from hub.registry.service import add_device, get_or_create_site
from hub.settings import Settings
from hub.wiring import wire
from tests.bridges.conftest import Publisher, amqtt_broker, free_port
from tests.pipeline import unique_site
from tests.services import postgres_database

__all__ = ["amqtt_broker"]


@dataclass
class LiveHub:
    """A running hub: where it listens, its sites, devices, tokens and a device publisher."""

    base: str
    site: str
    other: str
    tokens: dict[str, str]
    other_engineer: str
    devices: dict[str, tuple[str, str]]
    """Device id → (kind, site)."""
    publisher: Publisher
    sessions: sessionmaker[Session]
    screenshots: Path
    shot_names: list[str] = field(default_factory=list)

    def publish(self, device: str, payload: dict[str, object]) -> None:
        """A device's telemetry, as the device would send it."""
        kind, site = self.devices[device]
        self.publisher.publish(f"fh/{site}/{kind}/{device}/telemetry", payload)


def _seed(
    sessions: sessionmaker[Session], settings: Settings, site: str, other: str
) -> dict[str, object]:
    now = SystemClock().now()
    pepper = settings.token_pepper.get_secret_value()
    suffix = site.rsplit("-", 1)[-1]
    devices = {
        f"leak-b2-f05-{suffix}": (DeviceKind.leak, site, "2/5/pipe-well", "2号楼5层管井漏水"),
        f"leak-b3-f12-{suffix}": (DeviceKind.leak, site, "3/12/pipe-well", "3号楼12层管井漏水"),
        f"light-b2-f05-{suffix}": (DeviceKind.light, site, "2/5", "2号楼5层走廊灯"),
        f"paper-{suffix}": (DeviceKind.restroom, site, "clubhouse/2/men-restroom", "会所2楼男卫"),
        f"maple-leak-{suffix}": (DeviceKind.leak, other, "2/5/pipe-well", "枫叶苑管井 MAPLE-ONLY"),
    }
    tokens: dict[str, str] = {}
    with session_scope(sessions) as session:
        get_or_create_site(session=session, site_id=site, name="阳光花园", now=now)
        get_or_create_site(session=session, site_id=other, name="枫叶苑", now=now)
        for device_id, (kind, where, path, name) in devices.items():
            add_device(
                session=session, device_id=device_id, site_id=where, kind=kind, now=now,
                name=name, location_path=path,
            )  # fmt: skip
        for role in (Role.engineer, Role.front_desk, Role.manager, Role.admin):
            user = create_user(
                session=session, name=f"{role}-{suffix}", role=role, site_ids=[site], now=now
            )
            tokens[role] = issue_token(session=session, user=user, pepper=pepper, now=now)
        stranger = create_user(
            session=session, name=f"maple-eng-{suffix}", role=Role.engineer, site_ids=[other],
            now=now,
        )  # fmt: skip
        other_engineer = issue_token(session=session, user=stranger, pepper=pepper, now=now)
    return {
        "tokens": tokens,
        "other_engineer": other_engineer,
        "devices": {d: (str(k), s) for d, (k, s, _p, _n) in devices.items()},
    }


@contextmanager
def running_hub(engine: Engine, broker: EmbeddedBroker, screenshots: Path) -> Iterator[LiveHub]:
    """The hub on `engine`: uvicorn in a thread, the bridge with its sinks, seeded sites."""
    migrate.upgrade(engine)
    site, other = unique_site("web"), unique_site("maple")
    settings = Settings(  # type: ignore[call-arg]
        data_dir=screenshots.parent,
        mqtt_url=f"mqtt://{broker.host}:{broker.port}",  # type: ignore[arg-type]
        mqtt_protocol="3.1.1",
        stream_ping_seconds=1,
    )
    sessions = wire(session_factory(engine), settings=settings, clock=SystemClock())
    seeded = _seed(sessions, settings, site, other)
    bridge = Bridge(
        settings,
        sessions,
        client_id=new_client_id("web"),
        topics=[f"fh/{site}/+/+/+", f"fh/{other}/+/+/+"],
    )
    bridge.add_sink("desk", desk_reactions(sessions, Policies(), SystemClock()))
    bridge.add_sink("live", live_sink(sessions, SystemClock()))
    bridge.start()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine), host="127.0.0.1", port=port,
            log_level="warning", timeout_graceful_shutdown=1,
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="web-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    assert bridge.wait_subscribed()
    publisher = Publisher(broker.host, broker.port)
    try:
        yield LiveHub(
            base=f"http://127.0.0.1:{port}",
            site=site,
            other=other,
            tokens=seeded["tokens"],  # type: ignore[arg-type]
            other_engineer=seeded["other_engineer"],  # type: ignore[arg-type]
            devices=seeded["devices"],  # type: ignore[arg-type]
            publisher=publisher,
            sessions=sessions,
            screenshots=screenshots,
        )
    finally:
        publisher.close()
        server.should_exit = True
        thread.join(10)
        bridge.stop()


@pytest.fixture(scope="module")
def sqlite_hub(
    amqtt_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveHub]:
    """A live hub on SQLite, for this module's tests."""
    root = tmp_path_factory.mktemp("web")
    engine = make_engine(f"sqlite:///{(root / 'hub.db').as_posix()}")
    with running_hub(engine, amqtt_broker, root / "screenshots") as hub:
        (root / "screenshots").mkdir(exist_ok=True)
        yield hub
    engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_hub(
    request: pytest.FixtureRequest,
    amqtt_broker: EmbeddedBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveHub]:
    """A live hub on each database."""
    root = tmp_path_factory.mktemp("web")
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{(root / 'hub.db').as_posix()}")
        with running_hub(engine, amqtt_broker, root / "screenshots") as hub:
            yield hub
        engine.dispose()
    else:
        with (
            postgres_database("fh_web") as engine,
            running_hub(engine, amqtt_broker, root / "screenshots") as hub,
        ):
            yield hub
