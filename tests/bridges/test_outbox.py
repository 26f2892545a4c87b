"""The outbox publisher: committed messages go out in order, QoS 1, and are marked sent;
with no broker they wait."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bridges.broker import EmbeddedBroker
from bridges.mqtt import new_client_id
from bridges.outbox import OutboxPublisher
from hub.clock import ManualClock
from hub.db import session_factory
from hub.outbox.models import OutboxMessage
from hub.outbox.service import enqueue
from hub.settings import Settings
from tests.bridges.conftest import free_port, wait_for


def _enqueue(engine: Engine, topic: str, count: int) -> None:
    with session_factory(engine)() as session:
        for n in range(count):
            enqueue(session=session, topic=topic, payload={"n": n}, now=ManualClock().now())
        session.commit()


def _sent(engine: Engine) -> list[bool]:
    with session_factory(engine)() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [m.published_at is not None for m in rows]


def test_committed_messages_go_out_in_order(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine, tmp_path: Path
) -> None:
    topic = f"fh/{new_client_id('s')}/hub/notice"
    got: list[dict[str, Any]] = []
    subscribed = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("sub"))
    listener.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    listener.on_subscribe = lambda *_: subscribed.set()
    listener.on_message = lambda _c, _u, m: got.append(orjson.loads(m.payload))
    listener.connect(amqtt_broker.host, amqtt_broker.port)
    listener.loop_start()
    assert subscribed.wait(10)
    _enqueue(fresh_engine, topic, 5)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, mqtt_url=f"mqtt://{amqtt_broker.host}:{amqtt_broker.port}"
    )
    publisher = OutboxPublisher(settings, session_factory(fresh_engine), poll_s=0.05)
    publisher.start()
    try:
        assert wait_for(lambda: len(got) == 5)
        assert [m["n"] for m in got] == [0, 1, 2, 3, 4]
        assert wait_for(lambda: all(_sent(fresh_engine)))
    finally:
        publisher.stop()
        listener.disconnect()
        listener.loop_stop()


def test_without_a_broker_messages_wait(fresh_engine: Engine, tmp_path: Path) -> None:
    _enqueue(fresh_engine, "fh/x/hub/notice", 2)
    settings = Settings(data_dir=tmp_path, mqtt_url=f"mqtt://127.0.0.1:{free_port()}")  # type: ignore[call-arg]
    publisher = OutboxPublisher(settings, session_factory(fresh_engine))
    assert publisher.drain() == 0
    assert _sent(fresh_engine) == [False, False]
