"""The bridge's MQTT client: paho-mqtt 2 with buffered socket reads, and how it connects.

Everything paho-specific lives here: the client class, the persistent session (MQTT 5
session expiry or 3.1.1 `clean_session=False`), manual acknowledgements, credentials, TLS,
reconnect timing and the CONNECT properties. `bridges.mqtt` only wires its callbacks.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.settings import Settings

RECV_BYTES = 4096
"""What the bridge's client asks the socket for at once: some twenty messages of the mix.

Larger reads cost the batchers more than they save: between two reads the network thread
parses without releasing the GIL, and a batcher back from the database waits for it, once
per statement. One worker, Mosquitto + PostgreSQL, 15 s cells, msg/s: reading as paho
does, QoS 1 6,652 · 6,807 · 6,662 and QoS 0 6,126; 4 KiB reads, QoS 1 6,679 · 6,324 and
QoS 0 7,282; 16 KiB, QoS 1 5,893; 64 KiB, QoS 1 6,318 · 6,236 and QoS 0 6,954.
"""

RECV_ROUNDS = 4
"""Socket reads in one `loop_read` at most, before paho's loop gets to send (acks, pings)."""

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 4
"""paho waits before each reconnect attempt, doubling from the minimum up to the maximum.

So the bridge is back at most ~4 s after the broker is (with paho's usual 30 s cap it
was 9 s after a 20 s outage). An attempt at a broker that is down is one refused TCP
connection: a few a minute cost the broker nothing.
"""

MAX_INFLIGHT = 1000
"""Outgoing QoS > 0 messages in flight (the bridge publishes little; paho's default is 20)."""


class BufferedClient(mqtt.Client):
    """paho's client, reading the socket in large chunks rather than a few bytes at a time.

    paho 2 reads each packet with at least three `recv` calls (its command byte, each byte
    of its remaining length, then the rest) and, with nothing of its own in flight, handles
    one packet per `select`. At thousands of small messages a second those system calls
    were a large part of the network thread's time. Here one `recv` of up to `RECV_BYTES`
    feeds every packet it holds to paho's own parser (`_sock_recv` is paho's private hook
    for reading, stable across paho 2; the tests count the socket reads). `loop_read`
    returns only once the buffer is drained, so `select` never waits on bytes already
    read; after `RECV_ROUNDS` reads in one call it stops reading, and the rest of the
    packet stays on the socket for the next round of the loop, which sends in between.
    """

    _buffer = b""
    _offset = 0
    _buffered_socket: object = None
    _reads = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._buffered_socket is not self._sock:  # a new connection: nothing carries over
            self._buffer, self._offset, self._buffered_socket = b"", 0, self._sock
        if self._offset >= len(self._buffer):
            if self._reads >= RECV_ROUNDS:
                raise BlockingIOError
            self._reads += 1
            data = super()._sock_recv(RECV_BYTES)
            if not data:
                return data  # the connection closed
            self._buffer, self._offset = data, 0
        start = self._offset
        self._offset = min(start + bufsize, len(self._buffer))
        return self._buffer[start : self._offset]

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._buffer) - self._offset

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Handle every packet that arrived, up to `RECV_ROUNDS` socket reads' worth."""
        self._reads = 0
        rc = super().loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self.buffered() and self._sock is not None:
            rc = super().loop_read(max_packets)
        return rc


def make_client(settings: Settings, client_id: str) -> BufferedClient:
    """The bridge's client: its MQTT version, a persistent session, manual acks, TLS."""
    v5 = settings.mqtt_protocol == "5"
    client = BufferedClient(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=None if v5 else False,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        manual_ack=True,
    )
    if settings.mqtt_username:
        password = settings.mqtt_password
        client.username_pw_set(
            settings.mqtt_username, password.get_secret_value() if password else None
        )
    if settings.mqtt_url.scheme == "mqtts":
        ca = str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
        client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    return client


def broker_address(settings: Settings) -> tuple[str, int]:
    """Host and port of the configured broker (1883, or 8883 for mqtts://, by default)."""
    url = settings.mqtt_url
    return url.host or "127.0.0.1", url.port or (8883 if url.scheme == "mqtts" else 1883)


def connect(client: mqtt.Client, settings: Settings) -> None:
    """Start connecting in the background; paho's loop retries until the broker answers.

    Under MQTT 5 the CONNECT carries a session expiry (a persistent session in MQTT 5
    terms) and a Receive Maximum as large as what the bridge holds unacknowledged: its
    queue plus the batch being written.
    """
    host, port = broker_address(settings)
    if settings.mqtt_protocol == "5":
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = settings.mqtt_session_expiry_s
        properties.ReceiveMaximum = min(
            65535, settings.bridge_queue_size + settings.bridge_batch_size
        )
        client.connect_async(
            host,
            port,
            keepalive=settings.mqtt_keepalive,
            clean_start=False,
            properties=properties,
        )
    else:
        client.connect_async(host, port, keepalive=settings.mqtt_keepalive)


def subscriptions(topics: Sequence[str], share_group: str | None) -> list[tuple[str, int]]:
    """The topics at QoS 1, in the shared-subscription group `share_group` if set."""
    return [(f"$share/{share_group}/{t}" if share_group else t, 1) for t in topics]
