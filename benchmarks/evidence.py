"""Evidence cells: chain verification against raw SHA-256, and the p95 of a pack export.

`evidence_check_ratio`: walking stored chains (read, rebuild each link's body, hash,
compare) over raw `hashlib.sha256` of the same bytes in the same run. `evidence_export_p95_s`:
a pack of 20 devices reporting at 1 Hz over the window (24 h; the quick run takes 10 min).
"""

from __future__ import annotations

import hashlib
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
from hub.evidence import chains, pack, timeline
from hub.evidence.keys import Keyring
from hub.evidence.verify import GENESIS, chain_body, link
from hub.registry.models import Device, Site
from hub.signals.models import DeviceState, Signal

SITE = "bench-evidence"
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def _fill(session: Session, devices: int, seconds: int) -> list[bytes]:
    """Register `devices` restroom devices with one reading a second; the hashed inputs."""
    session.add(Site(id=SITE, name=SITE, created_at=START))
    session.flush()
    hashed: list[bytes] = []
    for n in range(devices):
        device_id = f"restroom-{n:02d}"
        session.add(Device(id=device_id, site_id=SITE, kind="restroom", heartbeat_timeout_s=600,
                           status="online", created_at=START))  # fmt: skip
        session.flush()
        prev, rows = GENESIS, []
        for s in range(seconds):
            ts = START + timedelta(seconds=s)
            payload = {"paper_pct": 100 - s % 100, "soap_pct": 50, "visits": s}
            body = chain_body(
                device_id, "telemetry", None, ts.isoformat(), f"id:{s}", payload, ts.isoformat()
            )
            digest = link(prev, body)
            hashed.append(prev.encode() + body)
            rows.append({"device_id": device_id, "site_id": SITE, "kind": "restroom",
                         "channel": "telemetry", "type": None, "ts": ts, "received_at": ts,
                         "idem_key": f"id:{s}", "payload": payload, "prev_digest": prev,
                         "digest": digest})  # fmt: skip
            prev = digest
        session.execute(insert(Signal), rows)
        head = {"head_digest": prev, "signal_count": seconds, "duplicate_count": 0}
        session.add(DeviceState(device_id=device_id, state={}, updated_at=START, **head))
    session.commit()
    return hashed


def run(quick: bool) -> dict[str, Any]:
    """Both cells on an embedded SQLite database of their own."""
    devices, seconds = 20, 600 if quick else 86400
    with tempfile.TemporaryDirectory(prefix="fhub-bench-evidence-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'hub.db'}")
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            hashed = _fill(session, devices, seconds)
            began = time.perf_counter()
            for data in hashed:
                hashlib.sha256(data).hexdigest()
            raw_s = time.perf_counter() - began
            began = time.perf_counter()
            for n in range(devices):
                report = chains.walk(session=session, device_id=f"restroom-{n:02d}")
                assert report.intact, report.problems
            walk_s = time.perf_counter() - began
            keyring = Keyring.open(Path(tmp) / "keys", now=START)
            subject = timeline.Subject(
                "complaint", "bench", SITE, START, START + timedelta(seconds=seconds),
                [f"restroom-{n:02d}" for n in range(devices)],
            )  # fmt: skip
            times = []
            for _ in range(3 if quick else 5):
                began = time.perf_counter()
                made = pack.build(session=session, subject=subject, keyring=keyring,
                                  now=subject.until, zone=UTC, actor="bench")  # fmt: skip
                times.append(time.perf_counter() - began)
                session.rollback()
        engine.dispose()
    signals = devices * seconds
    return {
        "evidence_signals": signals,
        "evidence_check_msgs": round(signals / walk_s),
        "evidence_raw_sha256_msgs": round(signals / raw_s),
        "evidence_check_ratio": round(raw_s / walk_s, 3),
        "evidence_export_p95_s": round(_p95(times), 2),
        "evidence_export_bytes": len(made.data),
        "evidence_window_h": seconds / 3600,
    }


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]
