"""The MQTT ingest bridge: subscriber → bounded inbox → batchers → commit → ack.

The paho network thread decodes nothing and stores nothing: it stamps the receipt time
and puts the message in a bounded inbox (a full inbox applies backpressure to the broker).
A batcher thread takes up to `bridge_batch_size` messages, ingests them in one transaction
and only after the commit acknowledges the QoS 1 ones (manual ack), so a crash before the
commit makes a persistent-session broker deliver them again; idempotency keys make the
redelivery harmless.

On PostgreSQL `bridge_pipeline` batchers work at once, so one batch is decoded and
evaluated while the one before it waits for the database. `bridges.turns` keeps them in
arrival order where it matters: they lock their devices and acknowledge one after another.
SQLite takes one writer at a time, so there a single batcher runs.

The paho client itself (buffered reads, session, TLS, CONNECT properties) is
`bridges.client`; this module wires its callbacks to the inbox and the batchers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import hub.models  # noqa: F401 - every table known before a batch flushes (an order's part)
from bridges.adapters import Adapters
from bridges.client import broker_address, connect, make_client, subscriptions
from bridges.gc_tuning import GC_THRESHOLDS, tune_gc
from bridges.identity import ClientId, claim_client_id
from bridges.inbox import Inbox
from bridges.sinks import SINK_QUEUE, Sink, Sinks, SinkStats
from bridges.spool import SPOOL_FILE, Spool
from bridges.turns import Turns
from devices.base import Reason
from hub.alarms.engine import RuleContext
from hub.clock import Clock, SystemClock
from hub.settings import Settings
from hub.signals.flows import BatchResult, ingest_batch
from hub.signals.models import DeadLetter
from hub.signals.service import Incoming, dead_letter_row

logger = logging.getLogger(__name__)

__all__ = [
    "GC_THRESHOLDS",
    "BatchHandler",
    "Bridge",
    "BridgeStats",
    "ingest_handler",
    "new_client_id",
    "tune_gc",
]

DEVICE_TOPICS = ("fh/+/+/+/+",)
"""Every device channel; `fh/{site}/hub/...` (the hub's own output) has four levels after fh."""

BatchHandler = Callable[
    [Session, Sequence[Incoming], datetime, AbstractContextManager[None]], BatchResult
]
"""Ingests one batch in the given session (the bridge commits).

The last argument is the batch's lock turn: held while it locks its devices, it makes
batches in progress at once lock in arrival order. A handler that locks nothing may
ignore it.
"""

MAX_TRIES = 3


@dataclass
class BridgeStats:
    """Counters of a running bridge."""

    received: int = 0
    committed: int = 0
    accepted: int = 0
    duplicates: int = 0
    dead: int = 0
    batches: int = 0
    quarantined: int = 0
    """Adapter messages of unregistered devices, held for registration."""
    ignored: int = 0
    """Adapter traffic that is not device data (zigbee2mqtt's own topics, commands)."""
    failures: int = 0
    connects: int = 0
    spooled: int = 0
    """Messages kept in the local spool: their dead letter could not be written."""
    lost: int = 0
    """Messages acknowledged without being kept anywhere: the spool was full."""
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Item:
    message: Incoming
    generation: int


@dataclass
class _Written:
    """What writing a batch settled: the items to acknowledge and what their commits did."""

    items: list[_Item] = field(default_factory=list)
    results: list[BatchResult] = field(default_factory=list)
    dead_lettered: int = 0

    def add(self, other: _Written) -> None:
        self.items.extend(other.items)
        self.results.extend(other.results)
        self.dead_lettered += other.dead_lettered


def ingest_handler(ctx: RuleContext, adapters: Adapters | None = None) -> BatchHandler:
    """The standard handler: `hub.signals.flows.ingest_batch` with the rule context.

    With `adapters`, third-party messages are first translated through the registry (or
    held in the quarantine) in the same transaction (`bridges.adapters.ingest`).
    """

    def handle(
        session: Session,
        messages: Sequence[Incoming],
        now: datetime,
        lock_turn: AbstractContextManager[None],
    ) -> BatchResult:
        if adapters is None:
            return ingest_batch(
                session=session, ctx=ctx, messages=messages, now=now, lock_turn=lock_turn
            )
        translation = adapters.translate(session=session, messages=messages)
        result = ingest_batch(
            session=session, ctx=ctx, messages=translation.messages, now=now, lock_turn=lock_turn
        )
        translation.settle(session=session, result=result)
        return result

    return handle


class Bridge:
    """A paho-mqtt client on a persistent session feeding the database in batches."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        ctx: RuleContext | None = None,
        clock: Clock | None = None,
        handler: BatchHandler | None = None,
        client_id: str | None = None,
        topics: Sequence[str] = DEVICE_TOPICS,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.adapters = Adapters.from_settings(settings)
        self.handler = handler or ingest_handler(ctx or RuleContext(), self.adapters)
        self._claim: ClientId | None = None
        chosen = client_id or settings.mqtt_client_id
        if not chosen:  # one per installation and worker, kept across restarts
            self._claim = claim_client_id(_engine(sessions), settings.data_dir)
            chosen = self._claim.value
        self.client_id = chosen
        self.topics = tuple(topics) + (self.adapters.roots() if self.adapters else ())
        self.stats = BridgeStats()
        self._queue: Inbox[_Item] = Inbox(settings.bridge_queue_size)
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self._taking = threading.Lock()
        self._turns = Turns(("lock", "ack"))
        sqlite = _engine(sessions).dialect.name == "sqlite"
        self.pipeline = 1 if sqlite else settings.bridge_pipeline
        self._batchers: list[threading.Thread] = []
        self._spool = Spool(settings.data_dir / SPOOL_FILE)
        self.sinks = Sinks()
        self._client = self._make_client()

    # -- the MQTT side (paho's thread) -------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = make_client(self.settings, self.client_id)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if reason.is_failure:
            hint = ""
            if str(reason) == "Unsupported protocol version":
                hint = " (the broker does not speak MQTT 5: set FH_MQTT_PROTOCOL=3.1.1)"
            logger.error("MQTT connection refused: %s%s", reason, hint)
            return
        with self._lock:
            self._generation += 1
        self.stats.connects += 1
        logger.info(
            "bridge %s connected (session present: %s)", self.client_id, flags.session_present
        )
        result, _mid = client.subscribe(subscriptions(self.topics, self.settings.mqtt_share_group))
        if result != mqtt.MQTT_ERR_SUCCESS:
            logger.error("bridge %s could not subscribe: %s", self.client_id, result)

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Any,
    ) -> None:
        if any(r.is_failure for r in reasons):
            logger.error("bridge %s subscription refused: %s", self.client_id, reasons)
            return
        self._subscribed.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        self._subscribed.clear()
        if not self._stop.is_set():
            logger.warning("bridge %s lost the broker (%s); reconnecting", self.client_id, reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """Stamp and enqueue; never raises, never touches the database."""
        try:
            try:
                topic = msg.topic
            except UnicodeDecodeError:  # paho keeps the topic's bytes only privately
                topic = msg._topic.decode("utf-8", "replace")  # dead-lettered as bad_topic
            item = _Item(
                Incoming(
                    topic=topic,
                    payload=bytes(msg.payload),
                    received_at=self.clock.now(),
                    qos=msg.qos,
                    retain=bool(msg.retain),
                    mid=msg.mid,
                ),
                self._generation,
            )
            while not self._stop.is_set():
                if self._queue.put(item, timeout=0.5):
                    self.stats.received += 1
                    return
                logger.warning("bridge queue full; holding the broker back")
        except Exception:
            logger.exception("bridge could not take a message on %s", getattr(msg, "topic", "?"))

    # -- the database side (batcher thread) --------------------------------------------

    def _take(self) -> list[_Item]:
        return self._queue.take(
            self.settings.bridge_batch_size,
            wait_s=0.2,
            fill_s=self.settings.bridge_batch_wait_ms / 1000,
        )

    def _run_batcher(self) -> None:
        while not (self._stop.is_set() and not self._queue):
            with self._taking:  # a batch and its ticket are taken together
                batch = self._take()
                if not batch:
                    continue
                ticket = self._turns.issue()
            self._process(batch, ticket)

    def _process(self, batch: Sequence[_Item], ticket: int) -> None:
        """Write the batch, then, in ticket order, count and acknowledge what it settled."""
        written = _Written()
        try:
            written = self._write(batch, lambda: self._turns.turn("lock", ticket))
        finally:
            self._turns.pass_("lock", ticket)  # if the batch never got to lock
            with self._turns.turn("ack", ticket):
                self._record(written)
                self._ack(written.items)
                for result in written.results:  # committed: in commit order, never blocking
                    self.sinks.offer(result.changes)

    def _commit(
        self, batch: Sequence[_Item], lock_turn: Callable[[], AbstractContextManager[None]]
    ) -> BatchResult:
        with self.sessions() as session:
            try:
                result = self.handler(
                    session, [i.message for i in batch], self.clock.now(), lock_turn()
                )
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return result

    def _write(
        self, batch: Sequence[_Item], lock_turn: Callable[[], AbstractContextManager[None]]
    ) -> _Written:
        """Commit the batch; isolate a message that keeps failing. Returns what to ack.

        A batch that fails is written again message by message; a message that fails alone
        `MAX_TRIES` times becomes an `internal_error` dead letter. While the database does
        not answer at all, nothing is given up on: it is retried with backoff.
        """
        tries = 0
        while True:
            try:
                result = self._commit(batch, lock_turn)
                return _Written(items=list(batch), results=[result])
            except Exception as exc:
                tries += 1
                with self._lock:
                    self.stats.failures += 1
                logger.exception("bridge batch of %d failed (try %d)", len(batch), tries)
                if len(batch) > 1:
                    written = _Written()
                    for item in batch:  # find the poison message, keep the rest
                        written.add(self._write([item], nullcontext))
                    return written
                if tries >= MAX_TRIES and self._dead_letter(batch[0], exc, tries):
                    return _Written(items=list(batch), dead_lettered=1)
                if self._stop.wait(min(30.0, 0.5 * 2**tries)) and tries >= MAX_TRIES:
                    return _Written()  # stopping: leave it unacknowledged for redelivery

    def _record(self, written: _Written) -> None:
        stats = self.stats
        stats.committed += len(written.items)
        stats.batches += len(written.results)
        for result in written.results:
            stats.accepted += result.accepted
            stats.duplicates += result.duplicates
            stats.dead += result.dead
            stats.quarantined += result.quarantined
            stats.ignored += result.ignored
            for reason, n in result.reasons.items():
                stats.reasons[reason] = stats.reasons.get(reason, 0) + n
        if written.dead_lettered:
            stats.dead += written.dead_lettered
            name = Reason.internal_error.value
            stats.reasons[name] = stats.reasons.get(name, 0) + written.dead_lettered

    def _dead_letter(self, item: _Item, error: Exception, tries: int) -> bool:
        """Keep a message that crashes ingest as `internal_error`; False to retry it later.

        If the dead letter cannot be written but the database answers, the message goes to
        the local spool and counts as kept: it must not hold back the messages behind it.
        """
        detail = f"ingest failed {tries} times: {type(error).__name__}: {error}"
        row = dead_letter_row(item.message, reason=Reason.internal_error, detail=detail)
        try:
            with self.sessions() as session:
                session.add(DeadLetter(**row))
                session.commit()
        except Exception:
            logger.exception("bridge could not dead-letter a message on %s", row["topic"])
        else:
            return True
        if not self._database_answers():
            return False  # an outage: acknowledge nothing, try again
        kept = self._spool.put(row)
        with self._lock:
            if kept:
                self.stats.spooled += 1
            else:
                self.stats.lost += 1
        if kept:
            logger.error("message on %s kept in %s", row["topic"], self._spool.path)
        else:
            logger.error("message on %s dropped: the spool is full", row["topic"])
        return True

    def _database_answers(self) -> bool:
        """Whether the database runs a trivial statement (an outage, if not)."""
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            logger.exception("the database does not answer")
            return False
        return True

    def _ack(self, batch: Sequence[_Item]) -> None:
        with self._lock:
            generation = self._generation
        for item in batch:
            # After a reconnect the broker redelivers what was not acknowledged; an old
            # packet id would acknowledge the wrong message, and the redelivery dedups anyway.
            if item.message.qos > 0 and item.generation == generation:
                self._client.ack(item.message.mid, item.message.qos)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying in the background) and start the batchers."""
        self._batchers = [
            threading.Thread(target=self._run_batcher, name=f"fhub-batcher-{n}", daemon=True)
            for n in range(self.pipeline)
        ]
        for batcher in self._batchers:
            batcher.start()
        connect(self._client, self.settings)
        self._client.loop_start()
        host, port = broker_address(self.settings)
        logger.info("bridge %s connecting to %s:%s", self.client_id, host, port)

    def add_sink(
        self,
        name: str,
        sink: Sink,
        *,
        capacity: int = SINK_QUEUE,
        close: Callable[[float], None] | None = None,
    ) -> SinkStats:
        """Hand each committed batch's changes to `sink`, on its own thread (`bridges.sinks`)."""
        return self.sinks.add(name, sink, capacity=capacity, close=close)

    def wait_subscribed(self, timeout: float = 10.0) -> bool:
        """Block until the bridge is connected and subscribed (True) or `timeout` passes."""
        return self._subscribed.wait(timeout)

    def idle(self) -> bool:
        """Whether every received message has been written."""
        return not self._queue and self.stats.committed >= self.stats.received

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, acknowledge it, disconnect."""
        self._client.on_message = None  # take nothing new
        self._stop.set()
        deadline = time.monotonic() + timeout
        for batcher in self._batchers:
            batcher.join(max(0.0, deadline - time.monotonic()))
        self._client.disconnect()
        self._client.loop_stop()
        self.sinks.stop(max(0.0, deadline - time.monotonic()))
        if self._claim is not None:
            self._claim.release()


def _engine(sessions: sessionmaker[Session]) -> Engine:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the bridge needs sessions bound to an engine")
    return bind


def new_client_id(prefix: str = "fhub") -> str:
    """A unique client id (simulators, tests, one-off tools)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
