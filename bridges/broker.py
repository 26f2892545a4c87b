"""The embedded MQTT broker (amqtt) for the demo and tests, on its own event-loop thread.

amqtt 0.12 does not queue QoS 1 messages for a persistent session whose subscriber is
offline; the embedded setup therefore runs the bridge in the broker's process, so the
subscriber is up whenever the broker is. Production durability belongs to Mosquitto/EMQX.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

logger = logging.getLogger(__name__)

# amqtt logs every packet at INFO; the hub's log should stay readable.
for _name in ("amqtt", "transitions"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class EmbeddedBroker:
    """An amqtt broker listening on `host:port`, started and stopped from synchronous code."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """The broker's mqtt:// URL."""
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
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
        from amqtt.broker import Broker

        try:
            self._broker = Broker(self._config())
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
