"""Receipt time in the chain: a signal's `received_at` is covered by its link (format 2), a
reading that arrived more than 5 minutes after its `ts` is marked late wherever it is shown,
a re-timed one is caught, and links written before (format 1) stay verifiable."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.evidence import chains
from hub.evidence.verify import received_in, verify_pack
from hub.registry.enums import DeviceKind
from hub.signals.models import DeviceState, Signal
from hub.signals.service import chain_digest
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")
ROOM = "restroom-club-2f-men"


def _room_with_a_late_reading(db: Session, clock: ManualClock) -> tuple[str, str]:
    room = register(db, clock, SITE, [(ROOM, DeviceKind.restroom, "clubhouse/2/men")])[ROOM]
    send(db, clock, room, {"paper_pct": 40})
    stamped = clock.now() + timedelta(minutes=1)
    clock.advance(hours=11)  # published 11 hours after its own time
    send(db, clock, room, {"paper_pct": 0, "ts": stamped.isoformat()})
    clock.advance(minutes=1)
    send(db, clock, room, {"paper_pct": 0})
    db.commit()
    return room.id, stamped.isoformat().replace("+00:00", "Z")


def test_a_late_reading_is_marked_with_both_times_and_its_finding_says_so(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    start = clock.now()
    device, stamped = _room_with_a_late_reading(db, clock)
    manager = bearer(make_token(Role.manager))
    params = {"since": (start - timedelta(minutes=1)).isoformat(), "until": clock.now().isoformat()}
    shown = client.get(f"/api/v1/devices/{device}/evidence", params=params, headers=manager).json()
    readings = [e for e in shown["timeline"] if e["type"] == "signal"]
    assert [e["late"] for e in readings] == [False, True, False]
    late = readings[1]
    assert late["at"] == stamped
    assert _t(late["received_at"]) == clock.now() - timedelta(minutes=1)  # taken when sent
    gap = _t(late["received_at"]) - _t(late["at"])
    assert gap > timedelta(hours=10)
    ran_out = next(f for f in shown["findings"] if f["kind"] == "paper_out")
    assert ran_out["refs"] == [{"type": "signal", "id": late["ref"]["id"]}]
    assert "late" in ran_out["statement_en"]
    assert "迟" in ran_out["statement"]
    assert shown["integrity"]["verified"] is True
    text = client.get(
        f"/api/v1/devices/{device}/evidence", params={**params, "format": "pdf"}, headers=manager
    )
    assert text.status_code == 200


def test_the_chain_covers_the_receipt_time_and_a_re_timed_reading_is_caught(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    device, _ = _room_with_a_late_reading(db, clock)
    rows = db.execute(
        select(Signal.id, Signal.received_at).where(Signal.device_id == device).order_by(Signal.id)
    ).all()
    bodies = [item.body for item in chains.links(session=db, device_id=device)]
    assert [received_in(b) for b in bodies] == [r.received_at.isoformat() for r in rows]  # format 2
    assert chains.walk(session=db, device_id=device).intact
    manager = bearer(make_token(Role.manager))
    made = client.post("/api/v1/evidence/exports", json={"device_id": device}, headers=manager)
    assert made.status_code == 201
    assert verify_pack(made.content).ok
    with zipfile.ZipFile(io.BytesIO(made.content)) as archive:
        links = [json.loads(line) for line in archive.read(f"chains/{device}.jsonl").splitlines()]
    assert all(received_in(row["body"].encode()) for row in links)
    # Someone makes the late reading look on time: the chain no longer matches.
    late_id = rows[1].id
    db.execute(
        update(Signal)
        .where(Signal.id == late_id)
        .values(received_at=rows[1].received_at - timedelta(hours=11))
    )
    db.commit()
    report = chains.walk(session=db, device_id=device)
    assert not report.intact
    assert str(late_id) in report.problems[0]
    checked = client.get("/api/v1/evidence/check", headers=manager).json()
    assert checked["ok"] is False


def test_links_written_before_the_receipt_time_stay_verifiable(
    db: Session, clock: ManualClock
) -> None:
    room = register(db, clock, SITE, [(ROOM, DeviceKind.restroom, "clubhouse/2/men")])[ROOM]
    prev = "0" * 64
    for n in range(3):  # three links of format 1, as ingest wrote them before
        ts = clock.now() + timedelta(minutes=n)
        payload = {"paper_pct": 50 - n}
        digest = chain_digest(
            prev,
            device_id=room.id,
            channel="telemetry",
            event_type=None,
            ts=ts,
            key=f"id:{n}",
            payload=payload,
        )
        row = {"device_id": room.id, "site_id": SITE, "kind": "restroom", "channel": "telemetry",
               "type": None, "ts": ts, "received_at": ts, "idem_key": f"id:{n}",
               "payload": payload, "prev_digest": prev, "digest": digest}  # fmt: skip
        db.execute(insert(Signal), [row])
        prev = digest
    db.add(
        DeviceState(
            device_id=room.id,
            state={},
            updated_at=clock.now(),
            head_digest=prev,
            signal_count=3,
            duplicate_count=0,
        )
    )
    db.flush()
    clock.advance(minutes=5)
    send(db, clock, room, {"paper_pct": 30})  # the next link is of format 2
    bodies = [item.body for item in chains.links(session=db, device_id=room.id)]
    assert [received_in(b) is not None for b in bodies] == [False, False, False, True]
    assert chains.walk(session=db, device_id=room.id).intact


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_patrol_cross_check_says_when_its_evidence_arrived_late(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    room = register(db, clock, SITE, [(ROOM, DeviceKind.restroom, "clubhouse/2/men")])[ROOM]
    clock.set(datetime(2026, 11, 23, 2, 12, tzinfo=UTC))  # 10:12: a reading of 10:05 arrives
    send(db, clock, room, {"paper_pct": 0, "ts": "2026-11-23T10:05:00+08:00"})
    db.commit()
    clock.set(datetime(2026, 11, 23, 2, 16, tzinfo=UTC))
    entry = {
        "location": "clubhouse/2/men",
        "inspector": "保洁 李阿姨",
        "observed_at": "2026-11-23T10:15:00+08:00",
        "items": [{"item": "paper", "state": "ok"}],
    }
    made = client.post("/api/v1/inspections", json=entry, headers=bearer(make_token(Role.cleaner)))
    assert made.status_code == 201, made.text
    (flag,) = made.json()["discrepancies"]
    assert "arrived late, received 2026-11-23 10:12:00+08:00" in flag["reason"]
    (cited,) = flag["evidence"]
    assert cited["late"] is True
    assert cited["received_at"].startswith("2026-11-23T02:12:00")
