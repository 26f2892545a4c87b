"""`evidence_pdf_p95_s`: the printable report of the gate case's day, as `GET
/devices/{id}/evidence?format=pdf` makes it (timeline, findings, chain check, PDF).

One gate reporting once a minute for a day, with about 180 passages (arm up, vehicle in,
arm down) and the booth button pressed onto a car: about 2,000 records (the quick run takes
two hours of it).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hub import migrate
from hub.db import make_engine
from hub.evidence import routes, timeline
from hub.evidence.keys import Keyring
from hub.evidence.schemas import WindowQuery
from hub.evidence.verify import GENESIS, chain_body, link
from hub.registry.models import Device, Site
from hub.signals.models import DeviceState, Signal

SITE = "bench-evidence-pdf"
GATE = "gate-garage"
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def _day(minutes: int) -> list[tuple[datetime, str, dict[str, Any]]]:
    """The gate's readings and events: (ts, channel, payload)."""
    rng = random.Random(24)
    out: list[tuple[datetime, str, dict[str, Any]]] = []
    for m in range(minutes):
        at = START + timedelta(minutes=m)
        out.append((at, "telemetry", {"arm": "down", "loop_occupied": False, "fault": None}))
        if rng.random() < 0.125:
            out += [
                (at + timedelta(seconds=20), "event",
                 {"type": "arm_up", "source": "plate_match", "loop_occupied": True}),
                (at + timedelta(seconds=23), "event", {"type": "vehicle_in", "plate": "粤B12345"}),
                (at + timedelta(seconds=28), "event",
                 {"type": "arm_down", "source": "auto", "loop_occupied": False}),
            ]  # fmt: skip
    press = START + timedelta(minutes=minutes // 2, seconds=40)
    out.append(
        (press, "event", {"type": "arm_down", "source": "manual_button", "loop_occupied": True})
    )
    return sorted(out, key=lambda r: r[0])


def _fill(session: Session, minutes: int) -> int:
    session.add(Site(id=SITE, name=SITE, created_at=START))
    session.flush()
    session.add(Device(id=GATE, site_id=SITE, kind="gate", heartbeat_timeout_s=600,
                       status="online", created_at=START))  # fmt: skip
    session.flush()
    prev, rows = GENESIS, []
    for n, (ts, channel, payload) in enumerate(_day(minutes)):
        kind = payload.get("type") if channel == "event" else None
        body = chain_body(GATE, channel, kind, ts.isoformat(), f"id:{n}", payload, ts.isoformat())
        digest = link(prev, body)
        rows.append({"device_id": GATE, "site_id": SITE, "kind": "gate", "channel": channel,
                     "type": kind, "ts": ts, "received_at": ts, "idem_key": f"id:{n}",
                     "payload": payload, "prev_digest": prev, "digest": digest})  # fmt: skip
        prev = digest
    session.execute(insert(Signal), rows)
    head = {"head_digest": prev, "signal_count": len(rows), "duplicate_count": 0}
    session.add(DeviceState(device_id=GATE, state={}, updated_at=START, **head))
    session.commit()
    return len(rows)


def run(quick: bool) -> dict[str, Any]:
    """The p95 of the gate day's PDF on an embedded SQLite database of its own."""
    minutes = 120 if quick else 1440
    with tempfile.TemporaryDirectory(prefix="fhub-bench-evidence-pdf-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'hub.db'}")
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            records = _fill(session, minutes)
            device = session.get(Device, GATE)
            assert device is not None
            keyring = Keyring.open(Path(tmp) / "keys", now=START)
            until = START + timedelta(minutes=minutes)
            subject = timeline.for_device(device=device, since=START, until=until)
            query = WindowQuery(since=START, until=until, format="pdf")
            times, size = [], 0
            for _ in range(3 if quick else 7):
                began = time.perf_counter()
                made = routes.answer(session=session, subject=subject, keyring=keyring, zone=UTC,
                                     query=query, now=until)  # fmt: skip
                times.append(time.perf_counter() - began)
                size = len(getattr(made, "body", b""))
        engine.dispose()
    return {
        "evidence_pdf_p95_s": round(_p95(times), 2),
        "evidence_pdf_records": records,
        "evidence_pdf_bytes": size,
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]
