"""Ingest of hostile messages on SQLite and PostgreSQL: each is stored as a signal or as a
dead letter with its own reason, with its original bytes; the rest of the batch goes on."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.base import MAX_MESSAGE_ID
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.models import DeadLetter, Signal
from hub.signals.service import Incoming
from tests.conftest import SITE
from tests.devices.test_hostile_payloads import HOSTILE
from tests.pipeline import ingest, message, register

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def leak(db: Session, clock: ManualClock) -> Device:
    """A leak sensor in building 4's pipe well."""
    return register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")])["leak-4-3"]


def _signals(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Signal)) or 0


def _dead(db: Session, topic: str) -> DeadLetter:
    return db.scalars(select(DeadLetter).where(DeadLetter.topic == topic)).one()


def test_a_nul_byte_is_dead_lettered_with_its_original_bytes(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    topic = "fh/nosuchsite/leak/nosuchdev/telemetry"
    poison = Incoming(topic=topic, payload=b"x\x00", received_at=clock.now(), qos=1)
    good = message(SITE, "leak", leak.id, {"leak": False}, at=clock.now())
    result = ingest(db, clock, poison, good)
    assert (result.accepted, result.reasons) == (1, {"unknown_device": 1})
    row = _dead(db, topic)
    assert row.payload == "x\\u0000"
    assert base64.b64decode(row.payload_base64 or "") == b"x\x00"


def test_a_nul_inside_a_reading_is_refused_with_its_own_reason(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    body = b'{"leak": false, "s": "a\\u0000b"}'
    result = ingest(db, clock, message(SITE, "leak", leak.id, body, at=clock.now()))
    assert result.reasons == {"nul_character": 1}
    row = _dead(db, f"fh/{SITE}/leak/{leak.id}/telemetry")
    assert base64.b64decode(row.payload_base64 or "") == body
    assert _signals(db) == 0


def test_a_topic_with_a_nul_is_dead_lettered(db: Session, clock: ManualClock) -> None:
    bad = Incoming(topic="fh/a\x00/leak/d/telemetry", payload=b"{}", received_at=clock.now())
    assert ingest(db, clock, bad).reasons == {"bad_topic": 1}
    assert _dead(db, "fh/a\\u0000/leak/d/telemetry").reason == "bad_topic"


def test_invalid_utf8_is_kept_byte_for_byte(db: Session, clock: ManualClock, leak: Device) -> None:
    body = b'{"leak": \xff\xfe false}'
    assert ingest(db, clock, message(SITE, "leak", leak.id, body, at=clock.now())).reasons == {
        "bad_encoding": 1
    }
    row = _dead(db, f"fh/{SITE}/leak/{leak.id}/telemetry")
    assert row.payload == '{"leak": \ufffd\ufffd false}'
    assert base64.b64decode(row.payload_base64 or "") == body


def test_hostile_payloads_are_dead_lettered_in_one_batch_with_good_ones(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    batch = []
    for n, (payload, _reason) in enumerate(HOSTILE):
        batch.append(message(SITE, "leak", leak.id, payload, at=clock.now()))
        batch.append(
            message(SITE, "leak", leak.id, {"id": f"ok-{n}", "leak": False}, at=clock.now())
        )
    result = ingest(db, clock, *batch)
    expected: dict[str, int] = {}
    for _payload, reason in HOSTILE:
        expected[reason.value] = expected.get(reason.value, 0) + 1
    assert result.reasons == expected
    assert (result.accepted, result.dead) == (len(HOSTILE), len(HOSTILE))
    assert _signals(db) == len(HOSTILE)


def test_ids_that_differ_late_or_only_in_type_are_different_messages(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    stem = "x" * 100
    ids: list[object] = [stem + "a", stem + "b", stem + "c", 777, "777"]
    batch = [message(SITE, "leak", leak.id, {"id": n, "leak": False}, at=clock.now()) for n in ids]
    result = ingest(db, clock, *batch)
    assert (result.accepted, result.dead, result.reasons) == (5, 0, {})
    assert _signals(db) == 5
    again = ingest(db, clock, *batch)
    assert (again.accepted, again.dead) == (0, 0)
    assert _signals(db) == 5


def test_an_id_past_the_limit_is_dead_lettered_not_cut(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    too_long = "y" * (MAX_MESSAGE_ID + 1)
    body = {"id": too_long, "leak": False}
    result = ingest(db, clock, message(SITE, "leak", leak.id, body, at=clock.now()))
    assert result.reasons == {"id_too_long": 1}
    assert _signals(db) == 0
