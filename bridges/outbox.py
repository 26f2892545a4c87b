"""The outbox publisher: the hub's own messages (`fh/{site}/hub/...`) out to the broker.

Services write a message into the `outbox` table in their transaction; this thread reads
what has committed, publishes it (QoS 1: waits for the broker's PUBACK) and marks it sent.
The database transaction never waits on the broker, and a message is never published for
a change that rolled back. A broker that is down leaves the messages pending; they go out,
in order, when it is back. After a crash between the PUBACK and the mark a message can go
out twice (at least once, as QoS 1 itself).
"""

from __future__ import annotations

import logging
import ssl
import threading

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from bridges.mqtt import new_client_id
from hub.clock import Clock, SystemClock
from hub.outbox import service
from hub.settings import Settings

logger = logging.getLogger(__name__)

PUBACK_TIMEOUT_S = 10.0


class OutboxPublisher:
    """Drains the outbox to the configured broker until stopped."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        poll_s: float = 1.0,
        batch: int = 100,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.poll_s = poll_s
        self.batch = batch
        self.published = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("fhub-outbox"))
        if self.settings.mqtt_username:
            password = self.settings.mqtt_password
            client.username_pw_set(
                self.settings.mqtt_username, password.get_secret_value() if password else None
            )
        if self.settings.mqtt_url.scheme == "mqtts":
            ca = str(self.settings.mqtt_ca_file) if self.settings.mqtt_ca_file else None
            client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        return client

    def drain(self) -> int:
        """Publish what is pending now, oldest first; stop at the first failure. Returns sent."""
        sent = 0
        with self.sessions() as session:
            for message in service.pending(session=session, limit=self.batch):
                if not self._client.is_connected():
                    break
                info = self._client.publish(
                    message.topic, orjson.dumps(message.payload), qos=message.qos
                )
                try:
                    info.wait_for_publish(PUBACK_TIMEOUT_S)
                except (RuntimeError, ValueError) as exc:
                    service.failed(message=message, error=str(exc))
                    break
                if not info.is_published():
                    service.failed(message=message, error="no PUBACK in time")
                    break
                service.published(message=message, now=self.clock.now())
                sent += 1
            session.commit()
        self.published += sent
        return sent

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.drain()
            except Exception:  # noqa: BLE001 - the thread must outlive a database hiccup
                logger.exception("outbox: drain failed; retrying")
                sent = 0
            if sent < self.batch:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def start(self) -> None:
        """Connect (retrying in the background) and start draining."""
        url = self.settings.mqtt_url
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        self._client.connect_async(url.host or "127.0.0.1", port, keepalive=30)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="fhub-outbox", daemon=True)
        self._thread.start()
        logger.info("outbox publisher connecting to %s:%s", url.host, port)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop draining and disconnect."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()
