"""Times people read are local (FH_TIMEZONE) with their offset; inside, everything is UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.cases import watchdog
from hub.clock import ManualClock
from hub.complaints.policy import ComplaintPolicy
from hub.localtime import shown
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.workorders.policy import SlaPolicy
from hub.workorders.service import CASES
from tests.complaints.helpers import file
from tests.conftest import SITE
from tests.pipeline import register, send, sensor_orders
from tests.workorders.helpers import new_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_time_is_shown_in_the_zone_with_its_offset() -> None:
    at = datetime(2026, 12, 1, 6, 2, 9, 500_000, tzinfo=UTC)
    assert shown(at, SHANGHAI) == "2026-12-01 14:02:09+08:00"
    assert shown(at, UTC) == "2026-12-01 06:02:09+00:00"


def test_settings_refuse_an_unknown_zone_and_give_the_configured_one() -> None:
    assert Settings(timezone="Europe/Berlin").zone == ZoneInfo("Europe/Berlin")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus_Mons")


@pytest.mark.usefixtures("sites")
def test_an_order_opened_by_the_sensors_says_since_when_in_local_time(
    db: Session, clock: ManualClock
) -> None:
    (leak,) = register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")]).values()
    ctx = RuleContext(policy=SlaPolicy(zone=SHANGHAI))
    send(db, clock, leak, {"leak": True}, ctx=ctx)
    (order,) = sensor_orders(db, SITE)
    assert f"since {shown(clock.now(), SHANGHAI)}" in order.description
    assert "UTC" not in order.description


@pytest.mark.usefixtures("sites")
def test_breach_notes_and_intake_notes_are_local(db: Session, clock: ManualClock) -> None:
    policy = SlaPolicy(zone=SHANGHAI)
    order = new_order(db, clock, policy)
    complaint = file(db, clock, policy=ComplaintPolicy(zone=SHANGHAI))
    assert shown(clock.now(), SHANGHAI) in complaint.history[0].note
    due = min(d.due_at for d in order.deadlines)
    clock.advance(hours=1)
    watchdog.flag_breaches(session=db, kind=CASES, now=clock.now(), zone=SHANGHAI)
    notes = [e.note for e in order.history if e.action == "sla_breach"]
    assert f"dispatch deadline {shown(due, SHANGHAI)} missed" in notes
