"""The benchmark publisher: the message mix at full speed, held back when the backlog grows."""

from __future__ import annotations

import multiprocessing.sharedctypes
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.mix import BenchDevice, messages


def publish(
    *,
    host: str,
    port: int,
    qos: int,
    devices: list[BenchDevice],
    prefix: str,
    stop: Any,
    sent: multiprocessing.sharedctypes.Synchronized[int],
    processed: multiprocessing.sharedctypes.Synchronized[int],
    backlog: int,
    rate: float | None,
) -> None:
    """Publish until `stop` is set: at `rate` msg/s, or as fast as the backlog bound allows.

    The backlog bound (sent but not yet processed) keeps the broker's queue short, so a
    slow subscriber is measured at its own pace rather than by how much the broker buffers.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fhub-bench-pub-{prefix}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    stream = messages(devices, id_prefix=prefix, seed=len(prefix))
    n = 0
    started = time.perf_counter()
    last_info: mqtt.MQTTMessageInfo | None = None
    while not stop.is_set():
        if rate is not None:
            ahead = n - (time.perf_counter() - started) * rate
            if ahead > 0:
                time.sleep(min(ahead / rate, 0.05))
                continue
        elif n - processed.value > backlog:
            time.sleep(0.001)
            continue
        for _ in range(50):
            topic, payload = next(stream)
            last_info = client.publish(topic, payload, qos=qos)
            n += 1
        sent.value = n
    if last_info is not None and qos > 0:
        last_info.wait_for_publish(timeout=30)
    time.sleep(0.2)
    client.loop_stop()
    client.disconnect()
    sent.value = n
