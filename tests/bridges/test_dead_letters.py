"""Dead letters at the bridge: a message that cannot be stored never holds back the ones
behind it, and a database outage is waited out, not mistaken for a bad message."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bridges.broker import EmbeddedBroker
from bridges.mqtt import Bridge, ingest_handler, new_client_id
from bridges.spool import SPOOL_FILE, Spool
from hub.alarms.engine import RuleContext
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.flows import BatchResult
from hub.signals.models import DeadLetter, Signal
from hub.signals.service import Incoming
from tests.bridges.conftest import Publisher, forget_session, free_port, wait_for
from tests.pipeline import register, unique_site
from tests.services import require_mosquitto


def _count(engine: Engine, model: type[Signal] | type[DeadLetter]) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _poisoned() -> object:
    """The standard handler, except that a batch holding `poison` fails (a bug, say)."""
    standard = ingest_handler(RuleContext())

    def handle(
        session: Session,
        messages: Sequence[Incoming],
        now: datetime,
        lock_turn: AbstractContextManager[None],
    ) -> BatchResult:
        result = standard(session, messages, now, lock_turn)
        if any(b"poison" in m.payload for m in messages):
            raise RuntimeError("ingest broke on this message")
        return result

    return handle


@pytest.mark.mosquitto
def test_a_dead_letter_that_cannot_be_written_is_spooled_and_acknowledged(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    host, port = require_mosquitto()
    site = unique_site("spool")
    with session_factory(fresh_engine)() as session:
        register(session, ManualClock(), site, [("leak-1", DeviceKind.leak, "1/1")])
        session.commit()
    with fresh_engine.begin() as conn:  # the database answers, but takes no dead letter
        conn.execute(text("ALTER TABLE dead_letters RENAME TO dead_letters_away"))
    settings = Settings(mqtt_url=f"mqtt://{host}:{port}", data_dir=tmp_path)  # type: ignore[arg-type]
    client_id = new_client_id("spool")
    topic = f"fh/{site}/leak/leak-1/telemetry"
    bridge = Bridge(
        settings,
        session_factory(fresh_engine),
        handler=_poisoned(),  # type: ignore[arg-type]
        client_id=client_id,
        topics=[f"fh/{site}/+/+/+"],
    )
    bridge.start()
    publisher = Publisher(host, port)
    try:
        assert bridge.wait_subscribed()
        publisher.publish(topic, {"id": "before", "leak": False})
        publisher.publish(topic, {"id": "poison", "leak": False})
        publisher.publish(topic, {"id": "after", "leak": False})
        assert wait_for(lambda: _count(fresh_engine, Signal) == 2, timeout=30)
        assert wait_for(bridge.idle)
        assert (bridge.stats.spooled, bridge.stats.lost) == (1, 0)
        assert bridge.stats.committed == bridge.stats.received == 3
    finally:
        bridge.stop()
        with fresh_engine.begin() as conn:
            conn.execute(text("ALTER TABLE dead_letters_away RENAME TO dead_letters"))
    (row,) = Spool(tmp_path / SPOOL_FILE).rows()
    assert (row["topic"], row["reason"]) == (topic, "internal_error")
    assert b"poison" in base64.b64decode(row["payload_base64"])
    again = Bridge(settings, session_factory(fresh_engine), client_id=client_id, topics=[topic])
    again.start()
    try:  # the broker holds nothing back for redelivery: everything was acknowledged
        assert again.wait_subscribed()
        time.sleep(1)
        assert again.stats.received == 0
    finally:
        publisher.close()
        again.stop()
        forget_session(host, port, client_id)


@pytest.mark.mosquitto
def test_a_database_outage_acknowledges_and_spools_nothing(tmp_path: Path) -> None:
    host, port = require_mosquitto()
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
    from hub.db import make_engine

    engine = make_engine(nowhere, connect_args={"connect_timeout": 2})
    settings = Settings(mqtt_url=f"mqtt://{host}:{port}", data_dir=tmp_path)  # type: ignore[arg-type]
    site = unique_site("outage")
    client_id = new_client_id("outage")
    bridge = Bridge(
        settings, session_factory(engine), client_id=client_id, topics=[f"fh/{site}/+/+/+"]
    )
    bridge.start()
    publisher = Publisher(host, port)
    try:
        assert bridge.wait_subscribed()
        publisher.publish(f"fh/{site}/leak/leak-1/telemetry", {"leak": False})
        assert wait_for(lambda: bridge.stats.failures >= 4, timeout=30)
        assert (bridge.stats.committed, bridge.stats.spooled, bridge.stats.lost) == (0, 0, 0)
        assert not (tmp_path / SPOOL_FILE).exists()
    finally:
        publisher.close()
        bridge.stop(timeout=2)
        engine.dispose()
        forget_session(host, port, client_id)


def test_the_spool_is_bounded(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool" / SPOOL_FILE, max_bytes=300)
    row = {"topic": "fh/a/leak/b/telemetry", "payload_base64": "eA==", "reason": "internal_error"}
    kept = [spool.put({**row, "n": n}) for n in range(10)]
    assert kept[:3] == [True, True, True]
    assert not kept[-1]
    assert (spool.written, spool.dropped) == (kept.count(True), kept.count(False))
    assert (tmp_path / "spool" / SPOOL_FILE).stat().st_size <= 300
    assert [r["n"] for r in spool.rows()] == list(range(spool.written))


def test_a_topic_that_is_not_utf8_is_dead_lettered(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        mqtt_url=f"mqtt://{amqtt_broker.host}:{amqtt_broker.port}",  # type: ignore[arg-type]
        mqtt_protocol="3.1.1",
    )
    bridge = Bridge(
        settings,
        session_factory(fresh_engine),
        client_id=new_client_id("utf8"),
        topics=[f"fh/{unique_site('utf8')}/+/+/+"],
    )
    bridge.start()
    try:
        assert bridge.wait_subscribed()
        raw = mqtt.MQTTMessage(mid=0, topic=b"fh/\xff\xfe/leak/leak-1/telemetry")
        raw.payload = b'{"leak": false}'
        bridge._on_message(bridge._client, None, raw)  # as paho's thread would hand it over
        assert wait_for(bridge.idle)
        assert bridge.stats.reasons == {"bad_topic": 1}
    finally:
        bridge.stop()
    with session_factory(fresh_engine)() as session:
        row = session.scalars(select(DeadLetter)).one()
    assert row.topic == "fh/\ufffd\ufffd/leak/leak-1/telemetry"
