"""A bridge process that receives messages and dies before committing them.

Run as `python -m tests.bridges.crashing_bridge DB_URL HOST PORT CLIENT_ID TOPIC`; it prints
`subscribed`, then `holding N` once a batch is in hand, and waits to be killed.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bridges.mqtt import Bridge
from hub.db import make_engine, session_factory
from hub.settings import Settings
from hub.signals.flows import BatchResult
from hub.signals.service import Incoming


def main() -> None:
    """Subscribe, take one batch, never commit it."""
    db_url, host, port, client_id, topic = sys.argv[1:6]

    def hold(
        _session: Session, messages: Sequence[Incoming], _now: datetime, _turn: object
    ) -> BatchResult:
        print(f"holding {len(messages)}", flush=True)
        threading.Event().wait()  # until killed
        raise AssertionError("unreachable")

    settings = Settings(mqtt_url=f"mqtt://{host}:{port}", bridge_batch_wait_ms=300)  # type: ignore[arg-type]
    bridge = Bridge(
        settings,
        session_factory(make_engine(db_url)),
        handler=hold,
        client_id=client_id,
        topics=[topic],
    )
    bridge.start()
    if not bridge.wait_subscribed(20):
        print("not subscribed", flush=True)
        sys.exit(1)
    print("subscribed", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
