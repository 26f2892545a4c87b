"""A bridge process with the standard ingest, to be killed or left running by a test.

Run as `python -m tests.bridges.bridge_process DB_URL HOST PORT CLIENT_ID TOPIC DATA_DIR`; it
prints `subscribed` once connected and subscribed, then ingests until it is killed.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from bridges.mqtt import Bridge
from hub.db import make_engine, session_factory
from hub.settings import Settings


def main() -> None:
    """Ingest from the broker until SIGTERM (a clean stop) or SIGKILL."""
    db_url, host, port, client_id, topic, data_dir = sys.argv[1:7]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = Settings(mqtt_url=f"mqtt://{host}:{port}", data_dir=Path(data_dir))  # type: ignore[arg-type]
    bridge = Bridge(
        settings,
        session_factory(make_engine(db_url)),
        client_id=client_id,
        topics=[topic],
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    bridge.start()
    if not bridge.wait_subscribed(20):
        print("not subscribed", flush=True)
        sys.exit(1)
    print("subscribed", flush=True)
    stop.wait()
    bridge.stop()


if __name__ == "__main__":
    main()
