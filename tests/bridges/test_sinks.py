"""After-commit sinks: each gets exactly what was committed, and none can slow ingest down."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bridges.broker import EmbeddedBroker
from bridges.mqtt import BatchHandler, Bridge, ingest_handler, new_client_id
from hub.alarms.engine import RuleContext
from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.changes import AlarmChangeKind, Changes
from hub.signals.flows import BatchResult
from hub.signals.models import Signal
from hub.signals.service import Incoming
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, wait_for
from tests.pipeline import register, unique_site


class Collecting:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.batches: list[Changes] = []

    def __call__(self, changes: Changes) -> None:
        self.batches.append(changes)

    def signal_ids(self) -> list[str]:
        return sorted(str(s.payload.get("n")) for b in self.batches for s in b.signals)


def _bridge(
    engine: Engine,
    broker: EmbeddedBroker,
    site: str,
    handler: BatchHandler | None = None,
    **kw: object,
) -> Bridge:
    settings = Settings(  # type: ignore[call-arg]
        mqtt_url=f"mqtt://{broker.host}:{broker.port}",  # type: ignore[arg-type]
        mqtt_protocol="3.1.1",
        **kw,
    )
    return Bridge(
        settings,
        session_factory(engine),
        handler=handler,
        client_id=new_client_id("sinks"),
        topics=[f"fh/{site}/+/+/+"],
    )


def _site(engine: Engine, prefix: str) -> str:
    site = unique_site(prefix)
    with session_factory(engine)() as session:
        register(session, ManualClock(), site, [("leak-1", DeviceKind.leak, "1/1")])
        session.commit()
    return site


def test_a_sink_receives_exactly_what_was_committed(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine
) -> None:
    site = _site(fresh_engine, "sink")
    bridge = _bridge(fresh_engine, amqtt_broker, site)
    sink = Collecting()
    stats = bridge.add_sink("collect", sink)
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    topic = f"fh/{site}/leak/leak-1/telemetry"
    try:
        assert bridge.wait_subscribed()
        publisher.publish(topic, {"id": "a", "n": 1, "leak": False, "battery": 80})
        publisher.publish(topic, {"id": "a", "n": 1, "leak": False, "battery": 80})  # again
        publisher.publish(topic, b"{junk")
        publisher.publish(topic, {"id": "b", "n": 2, "leak": False, "battery": 5})
        publisher.publish(topic, {"id": "c", "n": 3, "leak": False, "battery": 30})
        publisher.publish(topic, {"id": "d", "n": 4, "leak": True})
        assert wait_for(lambda: bridge.idle() and bridge.stats.received == 6)
        assert wait_for(lambda: stats.delivered == bridge.sinks.offered)
    finally:
        publisher.close()
        bridge.stop()
    with session_factory(fresh_engine)() as session:
        stored = session.scalars(select(Signal).order_by(Signal.id)).all()
        alarms = {a.type: a for a in session.scalars(select(Alarm))}
        orders = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()
    signals = [s for b in sink.batches for s in b.signals]
    assert [s.digest for s in signals] == [s.digest for s in stored]
    assert [(s.device_id, s.channel, s.ts, s.payload) for s in signals] == [
        (s.device_id, s.channel, s.ts, s.payload) for s in stored
    ]
    changes = [(c.change, c.type, c.alarm_id) for b in sink.batches for c in b.alarms]
    assert changes == [
        (AlarmChangeKind.raised, "battery_low", alarms["battery_low"].id),
        (AlarmChangeKind.cleared, "battery_low", alarms["battery_low"].id),
        (AlarmChangeKind.raised, "leak_detected", alarms["leak_detected"].id),
    ]
    opened = [o for b in sink.batches for o in b.orders]
    assert [o.order_id for o in opened] == [o.id for o in orders]
    raised_leak = next(c for b in sink.batches for c in b.alarms if c.type == "leak_detected")
    assert raised_leak.work_order_id == alarms["leak_detected"].work_order_id is not None
    assert (stats.failed, stats.dropped) == (0, 0)


def test_a_failing_or_stuck_sink_does_not_hold_ingest_back(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine
) -> None:
    site = _site(fresh_engine, "stuck")
    bridge = _bridge(fresh_engine, amqtt_broker, site, bridge_batch_size=1)
    release = threading.Event()

    def failing(_changes: Changes) -> None:
        raise RuntimeError("the time-series database is down")

    def stuck(_changes: Changes) -> None:
        release.wait(60)

    good = Collecting()
    fails = bridge.add_sink("failing", failing)
    hangs = bridge.add_sink("stuck", stuck, capacity=3)
    works = bridge.add_sink("good", good)
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    try:
        assert bridge.wait_subscribed()
        for n in range(40):
            publisher.publish(
                f"fh/{site}/leak/leak-1/telemetry", {"id": f"m{n}", "n": n, "leak": False}
            )
        assert wait_for(lambda: bridge.idle() and bridge.stats.accepted == 40)
        # A batch is counted, then offered to the sinks: wait for the last offer too.
        assert wait_for(lambda: bridge.sinks.offered == 40)  # one message a batch
        offered = bridge.sinks.offered
        assert wait_for(lambda: works.delivered == offered and fails.failed == offered)
        assert hangs.delivered == 0
        assert hangs.dropped == offered - 1 - 3  # one in hand, three waiting, the rest dropped
        assert good.signal_ids() == sorted(str(n) for n in range(40))
    finally:
        release.set()
        publisher.close()
        bridge.stop()
    assert hangs.delivered == 4


def _failing_first(fail_on: bytes) -> BatchHandler:
    """The standard handler, except that a batch holding `fail_on` rolls back after ingest."""
    standard = ingest_handler(RuleContext())

    def handle(
        session: Session,
        messages: Sequence[Incoming],
        now: datetime,
        lock_turn: AbstractContextManager[None],
    ) -> BatchResult:
        result = standard(session, messages, now, lock_turn)
        if any(fail_on in m.payload for m in messages):
            raise RuntimeError("the batch fails after ingest, before the commit")
        return result

    return handle


def test_nothing_of_a_batch_that_rolled_back_reaches_a_sink(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine
) -> None:
    site = _site(fresh_engine, "rollback")
    bridge = _bridge(
        fresh_engine, amqtt_broker, site, _failing_first(b'"poison"'), bridge_batch_wait_ms=300
    )
    sink = Collecting()
    stats = bridge.add_sink("collect", sink)
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    topic = f"fh/{site}/leak/leak-1/telemetry"
    try:
        assert bridge.wait_subscribed()
        for n in range(3):
            publisher.publish(topic, {"id": f"m{n}", "n": n, "leak": False})
        publisher.publish(topic, {"id": "p", "n": "poison", "leak": True})
        for n in range(3, 6):
            publisher.publish(topic, {"id": f"m{n}", "n": n, "leak": False})
        assert wait_for(lambda: bridge.idle() and bridge.stats.committed == 7, timeout=30)
        assert wait_for(lambda: stats.delivered == bridge.sinks.offered)
    finally:
        publisher.close()
        bridge.stop()
    assert bridge.stats.failures >= 3  # the batch, and the poison message three times alone
    assert bridge.stats.reasons == {"internal_error": 1}
    assert sink.signal_ids() == sorted(str(n) for n in range(6))
    assert not any(b.alarms or b.orders for b in sink.batches)  # the leak was never committed
