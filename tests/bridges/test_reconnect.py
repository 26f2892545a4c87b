"""After a broker outage the bridge is back within seconds, however long the outage was."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from bridges.client import RECONNECT_MAX_S
from bridges.mqtt import Bridge, new_client_id
from hub.db import make_engine, session_factory
from hub.settings import Settings

WATCH_S = 13.0
"""Long enough for paho's default backoff (1, 2, 4, 8 s…) to leave a gap of more than 5 s."""


def _broker_down(stop: threading.Event) -> tuple[list[float], int]:
    """Accept and drop connections on a free port, as a broker that is not up yet would fail
    them; the times of the attempts."""
    attempts: list[float] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    port: int = server.getsockname()[1]

    def serve() -> None:
        with server:
            while not stop.is_set():
                try:
                    conn, _addr = server.accept()
                except TimeoutError:
                    continue
                attempts.append(time.monotonic())
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return attempts, port


def test_reconnect_attempts_are_never_more_than_five_seconds_apart(tmp_path: Path) -> None:
    stop = threading.Event()
    attempts, port = _broker_down(stop)
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    settings = Settings(mqtt_url=f"mqtt://127.0.0.1:{port}", data_dir=tmp_path)  # type: ignore[arg-type]
    bridge = Bridge(settings, session_factory(engine), client_id=new_client_id("recon"))
    started = time.monotonic()
    bridge.start()
    try:
        time.sleep(WATCH_S)
    finally:
        ended = time.monotonic()
        bridge.stop(timeout=2)
        stop.set()
        engine.dispose()
    times = [started, *attempts, ended]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert len(attempts) >= 4, attempts
    assert max(gaps) <= RECONNECT_MAX_S + 1.0, gaps
