"""The embedded MQTT broker (amqtt) for the demo and tests, on its own event-loop thread.

amqtt 0.12 does not queue QoS 1 messages for a persistent session whose subscriber is
offline; the embedded setup therefore runs the bridge in the broker's process, so the
subscriber is up whenever the broker is. Production durability belongs to Mosquitto/EMQX.

amqtt 0.12 also delivers every message at the subscription's QoS, whatever QoS it was
published at. The bridge subscribes at QoS 1, so each QoS 0 reading came to it as QoS 1:
a packet id, a PUBACK and in-flight tracking per message, for telemetry its sender chose
to fire and forget. MQTT wants the lower of the two [MQTT-3.8.4-6]; `HubBroker` delivers
that. What the upgrade cost, measured on amqtt as it ships with a bare subscriber on a
persistent session and QoS 0 traffic: subscribed at QoS 1, 220 µs of broker CPU a message
(4,457 msg/s); at QoS 0, 174 µs (5,604 msg/s).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridges.broker_auth import PolicySource

logger = logging.getLogger(__name__)

# amqtt logs every packet at INFO; the hub's log should stay readable.
for _name in ("amqtt", "transitions"):
    logging.getLogger(_name).setLevel(logging.WARNING)


_PUBLISHED_QOS: ContextVar[int | None] = ContextVar("fhub_published_qos", default=None)
"""The QoS of the PUBLISH the broker is handing out, while it hands it out."""


class _Broadcast(dict[str, Any]):
    """amqtt's record of a message to hand out, knowing the QoS it was published at.

    The broker asks it `get("qos", subscription_qos)` for each matching subscription; the
    answer is the lower of the two, as MQTT requires.
    """

    def __init__(self, published_qos: int, **fields: Any) -> None:
        super().__init__(fields)
        self.published_qos = published_qos

    def get(self, key: str, default: Any = None) -> Any:
        if key == "qos" and key not in self and isinstance(default, int):
            return min(self.published_qos, default)
        return super().get(key, default)


@cache
def broker_class() -> type[Any]:
    """amqtt's broker, delivering each message at min(published, subscribed) QoS, and a
    retained message only to the clients whose own subscriptions match it (as Mosquitto).

    Built on first use: importing amqtt is only paid by processes that run a broker.
    """
    from amqtt.broker import Broker

    class HubBroker(Broker):  # type: ignore[misc]
        async def _handle_message_delivery(
            self, client_session: Any, handler: Any, wait_deliver: asyncio.Future[Any]
        ) -> bool:
            message = wait_deliver.result()
            token = _PUBLISHED_QOS.set(getattr(message, "qos", None))
            try:
                delivered: bool = await super()._handle_message_delivery(
                    client_session, handler, wait_deliver
                )
                return delivered
            finally:
                _PUBLISHED_QOS.reset(token)

        async def _broadcast_message(
            self, session: Any, topic: str | None, data: Any, force_qos: int | None = None
        ) -> None:
            published = _PUBLISHED_QOS.get()
            if force_qos is not None or published is None:
                await super()._broadcast_message(session, topic, data, force_qos)
                return
            await self._broadcast_queue.put(
                _Broadcast(published, session=session, topic=topic, data=data)
            )

        async def _publish_retained_messages_for_subscription(
            self, subscription: tuple[str, int], session: Any
        ) -> None:
            # On every connect amqtt offers the retained messages of every filter any client
            # subscribed to; Mosquitto gives a client only those matching its own filters.
            topic_filter = subscription[0]
            if not any(s is session for s, _q in self._subscriptions.get(topic_filter, ())):
                return
            await super()._publish_retained_messages_for_subscription(subscription, session)

    return HubBroker


class EmbeddedBroker:
    """An amqtt broker listening on `host:port`, started and stopped from synchronous code."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 1883, *, policy: PolicySource | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.policy = policy
        """With a policy, only the hub's broker credentials get in, each to its own topics
        (`bridges.broker_auth`); without one, anyone may connect and use any topic."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """The broker's mqtt:// URL."""
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        plugins: dict[str, Any] = {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        }
        if self.policy is not None:
            plugins = {
                "bridges.broker_auth.HubAuthPlugin": {"source": self.policy},
                "bridges.broker_auth.HubTopicPlugin": {"source": self.policy},
            }
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": plugins,
        }

    def start(self, timeout: float = 15.0) -> None:
        """Start listening; returns once the broker accepts connections."""
        started: Future[None] = Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start(started))
                loop.run_forever()
            finally:
                loop.close()
                self._stopped.set()

        self._thread = threading.Thread(target=run, name="fhub-broker", daemon=True)
        self._thread.start()
        started.result(timeout=timeout)
        logger.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    async def _start(self, started: Future[None]) -> None:
        try:
            self._broker = broker_class()(self._config())
            await self._broker.start()
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            started.set_exception(exc)
            return
        started.set_result(None)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the broker down and end its thread."""
        loop = self._loop
        if loop is None or self._broker is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop)
        try:
            future.result(timeout=timeout)
        except Exception:  # noqa: BLE001 - shutting down anyway
            logger.warning("embedded broker did not shut down cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        self._broker = None
        self._loop = None
