"""The harness measures what it says: the raw ceiling's receive window, and clean cells."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from benchmarks import raw, services
from tests.services import require_mosquitto


def test_raw_subscriber_announces_the_largest_receive_window_under_mqtt5() -> None:
    props = raw.connect_properties(mqtt5=True)
    assert props is not None
    assert props.ReceiveMaximum == 65535
    assert raw.connect_properties(mqtt5=False) is None


def _session_present(host: str, port: int, client_id: str, *, expiry: int) -> bool:
    """Connect without a clean start and say whether the broker still held a session."""
    present: list[bool] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)

    def on_connect(c: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, *_a: object) -> None:
        present.append(flags.session_present)
        c.subscribe("fh/+/+/+/+", qos=1)

    client.on_connect = on_connect
    client.on_subscribe = lambda *_a: subscribed.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = expiry
    client.connect(host, port, clean_start=False, properties=props)
    client.loop_start()
    assert subscribed.wait(10)
    client.disconnect()
    client.loop_stop()
    return present[0]


def test_a_stopped_workers_session_does_not_outlive_its_cell() -> None:
    host, port = require_mosquitto()
    client_id = f"fhub-test-bench-{uuid.uuid4().hex[:8]}"
    assert _session_present(host, port, client_id, expiry=300) is False
    assert _session_present(host, port, client_id, expiry=300) is True  # kept, as a bridge's

    services.end_sessions(port, [client_id], "5")

    assert _session_present(host, port, client_id, expiry=0) is False
