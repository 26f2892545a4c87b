"""A device's merged state: every interpreted field, and only a few small extras."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.db import json_text
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.models import DeviceState, Signal
from hub.signals.service import STATE_EXTRA_VALUE_BYTES, STATE_EXTRAS
from tests.conftest import SITE
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def leak(db: Session, clock: ManualClock) -> Device:
    """A leak sensor in building 4's pipe well."""
    return register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")])["leak-4-3"]


def _state(db: Session, device_id: str) -> dict[str, object]:
    state = db.scalar(select(DeviceState.state).where(DeviceState.device_id == device_id))
    assert state is not None
    return state


def test_large_extra_fields_do_not_pile_up_in_the_state(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    for n in range(30):
        clock.advance(seconds=10)
        send(db, clock, leak, {"leak": False, "battery": 80 - n, f"blob{n}": "x" * 60_000})
    state = _state(db, leak.id)
    assert (state["leak"], state["battery"]) == (False, 51)
    assert len(json_text(state)) < 4096
    signal = db.scalars(select(Signal).order_by(Signal.id.desc()).limit(1)).one()
    assert len(signal.payload["blob29"]) == 60_000  # the signal keeps what was sent


def test_only_a_bounded_number_of_extras_is_kept_the_newest_first(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    for n in range(10):
        clock.advance(seconds=10)
        send(db, clock, leak, {"leak": False, **{f"x{n}_{i}": i for i in range(5)}})
    state = _state(db, leak.id)
    extras = [k for k in state if k != "leak"]
    assert len(extras) == STATE_EXTRAS
    assert {f"x9_{i}" for i in range(5)} <= set(extras)
    assert "x0_0" not in extras
    clock.advance(seconds=10)
    send(db, clock, leak, {"leak": True, "rssi": -70, "note": "y" * (STATE_EXTRA_VALUE_BYTES + 1)})
    state = _state(db, leak.id)
    assert (state["leak"], state["rssi"]) == (True, -70)
    assert "note" not in state
