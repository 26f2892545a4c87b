"""End to end: the fault published over MQTT (embedded broker, the real bridge), the desk's
reactions as the scheduler runs them, the notice out on `fh/{site}/hub/notice`, complaints
filed over HTTP; on SQLite and PostgreSQL, with real commits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bridges.broker import EmbeddedBroker
from bridges.mqtt import Bridge, new_client_id
from bridges.outbox import OutboxPublisher
from hub.app import create_app
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import ManualClock, SystemClock
from hub.correlation.flows import Policies
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.registry.service import ensure_location
from hub.scheduler import correlation_watch
from hub.settings import Settings
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, free_port, wait_for
from tests.pipeline import register, unique_site


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    """The embedded broker for this module."""
    embedded = EmbeddedBroker(port=free_port())
    embedded.start()
    yield embedded
    embedded.stop()


class Listener:
    """An integration subscribed to the hub's notices."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("sub"))
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.append(orjson.loads(m.payload))
        self.client.connect(host, port)
        self.client.loop_start()
        assert self._subscribed.wait(10)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def _orders(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(WorkOrder)) or 0)


def _setup(engine: Engine, settings: Settings, site: str) -> str:
    with session_factory(engine)() as session:
        clock = ManualClock(SystemClock().now())
        register(session, clock, site, [("leak-b2-f05", DeviceKind.leak, "2/5/pipe-well")])
        ensure_location(session=session, site_id=site, path="2/4/401")
        ensure_location(session=session, site_id=site, path="2/3/301")
        user = create_user(
            session=session,
            name=f"desk-{site}",
            role=Role.front_desk,
            site_ids=[site],
            now=clock.now(),
        )
        token = issue_token(
            session=session,
            user=user,
            pepper=settings.token_pepper.get_secret_value(),
            now=clock.now(),
        )
        session.commit()
    return token


def test_the_desk_knows_before_the_owner_says_it(
    broker: EmbeddedBroker, fresh_engine: Engine, tmp_path: Path
) -> None:
    site = unique_site("e2e")
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, mqtt_url=f"mqtt://{broker.host}:{broker.port}", mqtt_protocol="3.1.1"
    )
    token = _setup(fresh_engine, settings, site)
    sessions = session_factory(fresh_engine)
    listener = Listener(broker.host, broker.port, f"fh/{site}/hub/notice")
    bridge = Bridge(
        settings, sessions, client_id=new_client_id("bridge"), topics=[f"fh/{site}/+/+/+"]
    )
    outbox = OutboxPublisher(settings, sessions, poll_s=0.05)
    device = Publisher(broker.host, broker.port)
    bridge.start()
    outbox.start()
    try:
        assert bridge.wait_subscribed()
        device.publish(f"fh/{site}/leak/leak-b2-f05/telemetry", {"leak": True, "flow_lpm": 30})
        assert wait_for(lambda: _orders(fresh_engine) == 1)
        correlation_watch(sessions, SystemClock(), Policies.from_settings(settings))
        assert wait_for(lambda: len(listener.messages) == 1)
        (announced,) = listener.messages
        assert announced["event"] == "published"
        assert announced["notice"]["locations"] == ["2/5", "2/4", "2/3", "2/2", "2/1"]
        assert announced["notice"]["units"] == 2
        with TestClient(create_app(settings, engine=fresh_engine)) as client:
            desk = {"Authorization": f"Bearer {token}"}
            first = client.post(
                "/api/v1/complaints",
                json={"content": "天花板一直在滴水", "unit": "2/4/401", "site": site},
                headers=desk,
            ).json()
            second = client.post(
                "/api/v1/complaints",
                json={"content": "2号楼5层管井漏水了", "site": site, "open_work_order": True},
                headers=desk,
            ).json()
            order_id = first["known_issue"]["work_order_id"]
            assert second["known_issue"]["work_order_id"] == order_id
            assert second["work_order_ids"] == [order_id]
            assert first["known_issue"]["notice_id"] == announced["notice"]["id"]
            assert "传感器" in first["known_issue"]["reply_suggestion"]
            order = client.get(f"/api/v1/work-orders/{order_id}", headers=desk).json()
            assert order["complaint_ids"] == [first["id"], second["id"]]
            assert _orders(fresh_engine) == 1
    finally:
        device.close()
        outbox.stop()
        bridge.stop()
        listener.close()
