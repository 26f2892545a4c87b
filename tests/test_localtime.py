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


def test_times_and_spans_as_people_say_them_in_each_language() -> None:
    from datetime import timedelta

    from hub.localtime import duration, said_at, spoken
    from hub.registry.places import halves

    now = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    at = datetime(2026, 12, 8, 6, 5, tzinfo=UTC)
    assert spoken(at, SHANGHAI, now=now, lang="zh") == "今天 14:05"
    assert spoken(at, SHANGHAI, now=now, lang="en") == "today 14:05"
    yesterday = at - timedelta(days=1, hours=4, minutes=35)
    assert spoken(yesterday, SHANGHAI, now=now, lang="zh") == "昨天 09:30"
    assert spoken(yesterday, SHANGHAI, now=now, lang="en") == "yesterday 09:30"
    earlier = at - timedelta(days=3)
    assert spoken(earlier, SHANGHAI, now=now, lang="zh") == "12月5日 14:05"
    assert spoken(earlier, SHANGHAI, now=now, lang="en") == "Dec 5 14:05"
    last_year = at - timedelta(days=365)
    assert spoken(last_year, SHANGHAI, now=now, lang="zh") == "2025年12月8日 14:05"
    assert said_at(at, SHANGHAI, "zh") == "12月8日 14:05"
    assert said_at(at, SHANGHAI, "en") == "Dec 8, 14:05"
    assert duration(2 * 86400 + 3 * 3600 + 59, "zh") == "2天3小时"
    assert duration(2 * 86400 + 3 * 3600, "en") == "2 d 3 h"
    assert duration(47 * 60 + 30, "zh") == "47分钟"
    assert duration(474 * 60 + 8, "en") == "7 h 54 min"  # never 474:08
    assert duration(3600, "zh") == "1小时"
    assert duration(-125, "en") == "2 min"
    assert duration(20, "zh") == "不到1分钟"
    assert halves("漏水 Water leak") == ("漏水", "Water leak")
    assert halves("Water leak") == ("Water leak", "Water leak")
    assert halves("车道堵塞 Lane blocked (loop occupied)") == (
        "车道堵塞",
        "Lane blocked (loop occupied)",
    )
