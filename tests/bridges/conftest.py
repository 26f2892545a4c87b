"""Broker fixtures: the embedded amqtt broker on a free port; publishing and waiting helpers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from bridges.broker import EmbeddedBroker
from bridges.mqtt import new_client_id


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def amqtt_broker() -> Iterator[EmbeddedBroker]:
    """The embedded broker on a free loopback port, for this module's tests."""
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, every: float = 0.02) -> bool:
    """Poll `predicate` until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


class Publisher:
    """A device-side MQTT client for tests."""

    def __init__(self, host: str, port: int) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("pub"))
        self.client.connect(host, port)
        self.client.loop_start()

    def publish(self, topic: str, payload: dict[str, object] | str | bytes, qos: int = 1) -> None:
        """Publish and wait until the broker has it."""
        if isinstance(payload, dict):
            body: bytes = orjson.dumps(payload)
        elif isinstance(payload, str):
            body = payload.encode()
        else:
            body = payload
        self.client.publish(topic, body, qos=qos).wait_for_publish(10)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def forget_session(host: str, port: int, client_id: str) -> None:
    """Remove a persistent session from the broker (connect clean, disconnect)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        client.connect(host, port)
        client.loop_start()
        time.sleep(0.1)
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass
