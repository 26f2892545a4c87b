"""Retained messages come again with every subscription: stored, or dead-lettered, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.models import DeadLetter, Signal
from tests.conftest import SITE
from tests.pipeline import ingest, message, register

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def leak(db: Session, clock: ManualClock) -> Device:
    """A leak sensor in building 4's pipe well."""
    return register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")])["leak-4-3"]


def _count(db: Session, model: type[Signal] | type[DeadLetter]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_retained_reading_without_id_or_ts_is_stored_once(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    duplicates = []
    for _reconnect in range(3):
        clock.advance(minutes=2)
        replay = message(SITE, "leak", leak.id, {"leak": False}, at=clock.now(), retain=True)
        duplicates.append(ingest(db, clock, replay).duplicates)
    assert duplicates == [0, 1, 1]
    assert _count(db, Signal) == 1


def test_live_readings_without_id_or_ts_are_each_stored(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    for _ in range(3):
        clock.advance(minutes=2)
        ingest(db, clock, message(SITE, "leak", leak.id, {"leak": False}, at=clock.now()))
    assert _count(db, Signal) == 3


def test_retained_junk_is_dead_lettered_once(db: Session, clock: ManualClock, leak: Device) -> None:
    results = []
    for _reconnect in range(3):
        clock.advance(minutes=2)
        junk = message(SITE, "leak", leak.id, b"{broken", at=clock.now(), retain=True)
        results.append(ingest(db, clock, junk))
    assert [(r.dead, r.duplicates) for r in results] == [(1, 0), (0, 1), (0, 1)]
    assert _count(db, DeadLetter) == 1
    live = message(SITE, "leak", leak.id, b"{broken", at=clock.now())
    assert ingest(db, clock, live).dead == 1  # sent again, not replayed: a new dead letter
    assert _count(db, DeadLetter) == 2
