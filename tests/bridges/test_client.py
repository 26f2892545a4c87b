"""The bridge's MQTT client reads the socket in large chunks and loses nothing doing so."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bridges.broker import EmbeddedBroker
from bridges.client import RECV_BYTES, BufferedClient
from bridges.mqtt import new_client_id
from tests.bridges.conftest import wait_for


class _CountingSocket:
    """The client's socket, counting the reads made on it."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.reads = 0

    def recv(self, size: int) -> bytes:
        self.reads += 1
        data: bytes = self._sock.recv(size)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Receiver:
    """A buffered client that holds its first message back until released."""

    def __init__(self, broker: EmbeddedBroker, topic: str) -> None:
        self.got: list[bytes] = []
        self.release = threading.Event()
        subscribed = threading.Event()
        self.client = BufferedClient(CallbackAPIVersion.VERSION2, client_id=new_client_id("rx"))
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(10)
        self.socket = _CountingSocket(self.client._sock)
        self.client._sock = self.socket

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self.release.wait(10)  # the rest of the burst piles up on the socket meanwhile
        self.got.append(bytes(msg.payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _deliver(broker: EmbeddedBroker, payloads: list[bytes]) -> _Receiver:
    """Send `payloads` at once to a receiver held back on the first; all received, or fail."""
    topic = f"fh/rx-{new_client_id()}/leak/leak-1/telemetry"
    receiver = _Receiver(broker, topic)
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("tx"))
    sender.max_inflight_messages_set(0)  # no limit: the whole burst goes out at once
    try:
        sender.connect(broker.host, broker.port)
        sender.loop_start()
        infos = [sender.publish(topic, body, qos=1) for body in payloads]
        infos[-1].wait_for_publish(20)
        receiver.release.set()
        assert wait_for(lambda: len(receiver.got) == len(payloads))
    finally:
        sender.disconnect()
        sender.loop_stop()
        receiver.close()
    return receiver


def test_a_burst_is_read_many_packets_at_a_time(amqtt_broker: EmbeddedBroker) -> None:
    payloads = [b'{"leak": false, "battery": 90, "id": "m-%04d"}' % n for n in range(1000)]
    receiver = _deliver(amqtt_broker, payloads)
    assert receiver.got == payloads
    # paho alone reads at least three times a packet (3,000 here)
    assert receiver.socket.reads <= len(payloads) // 10, receiver.socket.reads


def test_packets_larger_than_a_read_arrive_whole_and_in_order(
    amqtt_broker: EmbeddedBroker,
) -> None:
    sizes = [10, RECV_BYTES - 7, 3, 5 * RECV_BYTES + 11, 1, RECV_BYTES, 200, 2 * RECV_BYTES]
    payloads = [bytes([65 + n % 26]) * size for n, size in enumerate(sizes)]
    receiver = _deliver(amqtt_broker, payloads)
    assert [len(p) for p in receiver.got] == sizes
    assert receiver.got == payloads
