"""The raw ceiling: a bare paho subscriber that only parses the JSON, counting messages."""

from __future__ import annotations

import argparse
import multiprocessing.sharedctypes
import signal
import sys
import threading
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

RECEIVE_MAXIMUM = 65535
"""The largest window MQTT 5 allows; the bridge announces its queue plus one batch."""


def connect_properties(mqtt5: bool) -> Properties | None:
    """The CONNECT properties: under MQTT 5 a Receive Maximum as large as the protocol allows.

    Without it Mosquitto sends a subscriber no more than 20 unacknowledged QoS 1 messages,
    which would make the raw ceiling a measure of that window instead of the broker.
    """
    if not mqtt5:
        return None
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    return props


def run(
    host: str,
    port: int,
    qos: int,
    counter: multiprocessing.sharedctypes.Synchronized[int] | None,
    ready: threading.Event | Any | None,
    stop: threading.Event | Any,
    client_id: str,
    mqtt5: bool = True,
) -> int:
    """Subscribe to every device topic and count parsed messages until `stop` is set.

    Under MQTT 5 it announces the largest Receive Maximum, as the hub's bridge does, so the
    broker's default window of unacknowledged QoS 1 messages bounds neither.
    """
    state = {"n": 0, "bad": 0}

    def on_connect(client: mqtt.Client, _u: object, _f: object, _rc: object, _p: object) -> None:
        client.subscribe("fh/+/+/+/+", qos=qos)

    def on_subscribe(*_args: object) -> None:
        if ready is not None:
            ready.set()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            orjson.loads(msg.payload)
        except orjson.JSONDecodeError:
            state["bad"] += 1
        state["n"] += 1
        if counter is not None:
            counter.value = state["n"]

    if mqtt5:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.max_inflight_messages_set(1000)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, properties=connect_properties(mqtt5))
    client.loop_start()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    if counter is not None:
        counter.value = state["n"]
    return state["n"]


def main() -> None:
    """Command-line entry: run until SIGTERM, print the count."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--qos", type=int, default=0)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    n = run(args.host, args.port, args.qos, None, None, stop, "fhub-bench-raw")
    sys.stdout.write(f"{n}\n")


if __name__ == "__main__":
    main()
