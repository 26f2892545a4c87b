"""The embedded broker hands each message out at the QoS MQTT asks for."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bridges.broker import EmbeddedBroker
from bridges.mqtt import new_client_id
from tests.bridges.conftest import Publisher, wait_for


class _Subscriber:
    """Records the QoS of every message it receives, by payload."""

    def __init__(self, broker: EmbeddedBroker, topic: str, qos: int, clean: bool) -> None:
        self.got: dict[bytes, int] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=new_client_id("sub"), clean_session=clean
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=qos)
        assert self._subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.got[bytes(msg.payload)] = msg.qos

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_message_is_delivered_at_the_lower_of_published_and_subscribed_qos(
    amqtt_broker: EmbeddedBroker,
) -> None:
    topic = f"fh/qos-{new_client_id()}/leak/leak-1/telemetry"
    at_one = _Subscriber(amqtt_broker, topic, qos=1, clean=False)  # as the bridge subscribes
    at_zero = _Subscriber(amqtt_broker, topic, qos=0, clean=True)
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    try:
        for qos in (0, 1, 2):
            publisher.publish(topic, f"published at {qos}", qos=qos)
        assert wait_for(lambda: len(at_one.got) == 3 and len(at_zero.got) == 3)
    finally:
        publisher.close()
        at_one.close()
        at_zero.close()
    assert at_one.got == {b"published at 0": 0, b"published at 1": 1, b"published at 2": 1}
    assert at_zero.got == {b"published at 0": 0, b"published at 1": 0, b"published at 2": 0}


def test_a_retained_message_goes_only_to_subscriptions_it_matches(
    amqtt_broker: EmbeddedBroker,
) -> None:
    site = f"ret-{new_client_id()}".lower().replace("_", "-")[:40]
    bridge = _Subscriber(amqtt_broker, f"fh/{site}/#", qos=1, clean=False)  # as the bridge
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=new_client_id("pub"))
    publisher.connect(amqtt_broker.host, amqtt_broker.port)
    publisher.loop_start()
    others: list[_Subscriber] = []
    try:
        for n in range(5):
            topic = f"fh/{site}/leak/leak-{n}/status"
            publisher.publish(topic, b"online", qos=1, retain=True).wait_for_publish(10)
        assert wait_for(lambda: len(bridge.got) == 1)  # the same payload, five topics
        unrelated = _Subscriber(amqtt_broker, f"zzz-{site}/#", qos=1, clean=True)
        persistent = _Subscriber(amqtt_broker, f"zzz-{site}/x", qos=1, clean=False)
        one = _Subscriber(amqtt_broker, f"fh/{site}/leak/leak-1/status", qos=1, clean=True)
        others += [unrelated, persistent, one]
        assert wait_for(lambda: bool(one.got))
        threading.Event().wait(1.0)  # what would come, comes within this
        assert unrelated.got == {}
        assert persistent.got == {}
        assert one.got == {b"online": 1}
    finally:
        for client in (bridge, *others):
            client.close()
        publisher.loop_stop()
        publisher.disconnect()
