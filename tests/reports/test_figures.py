"""Each report's figures on a built history (tests/reports/history.py), on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.complaints import answers
from hub.complaints.enums import HotDimension
from hub.reports import flows, periods
from hub.reports.enums import Cadence, ReportName
from tests.conftest import SITE
from tests.reports.history import (
    SINCE,
    UNTIL,
    ZONE,
    callback_history,
    hot_history,
    local,
    proactive_history,
    sla_history,
    unfinished_history,
)


def build(db: Session, name: ReportName, since: Any = SINCE, until: Any = UNTIL) -> Any:
    report = flows.build(
        session=db, name=name, site_id=SITE, since=since, until=until, now=UNTIL, zone=ZONE
    )
    return report.document()


def test_the_default_windows_are_local_weeks_half_months_and_months() -> None:
    now = local(2026, 12, 2, 1, 0)  # Wednesday 01:00 local = Tuesday 17:00 UTC
    assert periods.last_full(Cadence.weekly, now, ZONE) == (SINCE, UNTIL)
    assert periods.last_full(Cadence.half_monthly, now, ZONE) == (
        local(2026, 11, 16),
        local(2026, 12, 1),
    )
    assert periods.last_full(Cadence.monthly, now, ZONE) == (local(2026, 11, 1), local(2026, 12, 1))
    assert periods.last_full(Cadence.half_monthly, local(2026, 11, 20), ZONE) == (
        local(2026, 11, 1),
        local(2026, 11, 16),
    )
    assert SINCE.isoformat() == "2026-11-22T16:00:00+00:00"
    assert flows.window(ReportName.sla, since=None, until=None, now=now, zone=ZONE) == (
        SINCE,
        UNTIL,
    )


@pytest.mark.usefixtures("sites")
def test_sla_per_department_priority_and_step(db: Session, clock: ManualClock) -> None:
    sla_history(db, clock)
    doc = build(db, ReportName.sla)
    rows = {r["step"]: r for r in doc["sections"]["sla"]}
    assert {(r["department"], r["priority"]) for r in rows.values()} == {("engineering", "urgent")}
    dispatch, on_site, resolve, callback = (
        rows["dispatch"],
        rows["on_site"],
        rows["resolve"],
        rows["callback"],
    )
    # C (the week before) is not counted; A and B are.
    assert (dispatch["deadlines"], dispatch["met"], dispatch["breached"]) == (2, 1, 1)
    assert (dispatch["median_minutes"], dispatch["p90_minutes"]) == (1.8, 2.8)
    # B's reopening adds a cycle: its second on-site step met at its due time exactly.
    assert (on_site["deadlines"], on_site["met"], on_site["breached"]) == (3, 2, 1)
    assert (on_site["median_minutes"], on_site["p90_minutes"]) == (5.0, 9.0)
    # A's 60 min on hold (across the week's last midnight) is not resolve time: 65, not 125.
    assert (resolve["deadlines"], resolve["met"], resolve["breached"]) == (3, 3, 0)
    assert (resolve["median_minutes"], resolve["p90_minutes"]) == (35.0, 59.0)
    # A's callback starts after the window; B's second one is still pending.
    assert (callback["deadlines"], callback["met"], callback["pending"]) == (2, 1, 1)
    assert dispatch["escalated_orders"] == on_site["escalated_orders"] == 1
    assert dispatch["met_rate"] == 0.5
    assert doc["totals"].items() >= {"deadlines": 10, "met": 7, "breached": 2, "pending": 1}.items()


@pytest.mark.usefixtures("sites")
def test_weekly_hot_items_against_the_week_before(db: Session, clock: ManualClock) -> None:
    hot_history(db, clock)
    clock.set(UNTIL)
    for text in ("灯管本周五前全部更换", "灯管已到货,周三前全部更换"):
        answers.write(
            session=db,
            site_id=SITE,
            dimension=HotDimension.device_kind,
            value="light",
            text=text,
            author="manager-zhao",
            now=clock.now(),
        )
    doc = build(db, ReportName.weekly_hot)
    assert doc["totals"] == {
        "complaints": 4,
        "previous": 1,
        "change": 3,
        "hot_items": 7,
        "answered": 1,
    }
    rows = {(r["dimension"], r["value"]): r for r in doc["sections"]["hot"]}
    light = rows[("device_kind", "light")]
    assert (light["rank"], light["count"], light["previous"], light["change"]) == (1, 3, 1, 2)
    assert (light["change_pct"], light["share"]) == (2.0, 0.75)
    assert (light["answer"], light["answer_version"]) == ("灯管已到货,周三前全部更换", 2)
    assert rows[("location", "3/12")]["count"] == 3
    assert rows[("location", "clubhouse/2")]["count"] == 1
    assert rows[("category", "facility")]["rank"] == 1
    assert (
        rows[("category", "sanitation")].items()
        >= {"rank": 2, "count": 1, "change_pct": None}.items()
    )
    assert rows[("cause", "property")]["count"] == 4


@pytest.mark.usefixtures("sites")
def test_monthly_by_category_trend_in_local_days_and_callbacks(
    db: Session, clock: ManualClock
) -> None:
    hot_history(db, clock)
    callback_history(db, clock)
    doc = build(db, ReportName.monthly, local(2026, 11, 1), local(2026, 12, 1))
    cats = {(r["category"], r["cause"]): r for r in doc["sections"]["categories"]}
    # Every light complaint of November local: five from the hot week and its edges (the
    # one at 00:00 on the 30th too), three called back.
    assert cats[("facility", "property")]["count"] == 5 + 3
    assert cats[("sanitation", "property")]["count"] == 1
    days = {r["day"]: r["count"] for r in doc["sections"]["trend"]}
    # 00:05 on the 23rd local is the 22nd in UTC: it counts on the 23rd.
    assert days["2026-11-23"] == 1
    assert days["2026-11-22"] == 1  # 23:55 local on the 22nd
    assert days["2026-11-30"] == 1
    assert days["2026-11-24"] == 3
    (facility,) = doc["sections"]["callbacks"]
    assert facility.items() >= {"due": 3, "within_2h": 1, "late": 1, "missing": 1}.items()
    assert doc["totals"]["callback_rate"] == 0.333
    assert doc["totals"]["callback_rule_met"] is False


@pytest.mark.usefixtures("sites")
def test_monthly_shows_the_owners_satisfaction_at_callback(db: Session, clock: ManualClock) -> None:
    made = callback_history(db, clock)
    made["on_time"].satisfaction, made["late"].satisfaction = 5, 2
    db.flush()
    doc = build(db, ReportName.monthly, local(2026, 11, 1), local(2026, 12, 1))
    (facility,) = doc["sections"]["callbacks"]
    assert (facility["scored"], facility["satisfaction"]) == (2, 3.5)
    assert (doc["totals"]["satisfaction_scored"], doc["totals"]["satisfaction_mean"]) == (2, 3.5)
    later = build(db, ReportName.monthly, local(2026, 12, 1), local(2027, 1, 1))
    assert later["totals"]["satisfaction_mean"] is None


@pytest.mark.usefixtures("sites")
def test_proactive_sensor_first_and_complaint_first(db: Session, clock: ManualClock) -> None:
    made = proactive_history(db, clock)
    doc = build(db, ReportName.proactive)
    assert doc["totals"] == {
        "issues": 2,
        "sensor_first": 1,
        "complaint_first": 1,
        "ratio": 0.5,
        "median_lead_minutes": 31.0,
    }
    items = {r["work_order_id"]: r for r in doc["sections"]["issues"]}
    assert items[made["sensed"].id].items() >= {"sensor_first": True, "lead_minutes": 31.0}.items()
    assert items[made["opened"].id].items() >= {"sensor_first": False, "lead_minutes": 12.0}.items()


@pytest.mark.usefixtures("sites")
def test_unfinished_lights_first_with_holds_and_sla_state(db: Session, clock: ManualClock) -> None:
    made = unfinished_history(db, clock)
    doc = build(db, ReportName.unfinished, local(2026, 11, 16), UNTIL)
    rows = doc["sections"]["items"]
    listed = [(r["type"], r["id"]) for r in rows]
    assert ("work_order", made["done"].id) not in listed
    assert ("work_order", made["dropped"].id) not in listed
    lights = [r for r in rows if r["light"]]
    assert rows[: len(lights)] == lights  # lights first
    light = next(r for r in rows if r["id"] == made["light"].id and r["type"] == "work_order")
    assert light["hold_reason"] == "等灯管采购 lamps on order"
    assert light["sla"] == "paused"
    assert light["age_days"] == 2.6  # Friday 09:00 to Monday 00:00
    paper = next(r for r in rows if r["id"] == made["paper"].id and r["type"] == "work_order")
    assert (paper["department"], paper["sla"], paper["light"]) == ("cleaning", "breached", False)
    dark = next(r for r in rows if r["type"] == "complaint" and r["id"] == made["dark"].id)
    assert (dark["light"], dark["department"]) == (True, "front_desk")
    assert doc["totals"].items() >= {"orders": 2, "lights": 2, "on_hold": 1}.items()
    departments = {r["department"]: r for r in doc["sections"]["departments"]}
    assert departments["engineering"].items() >= {"orders": 1, "lights": 1, "on_hold": 1}.items()
    assert departments["cleaning"]["breached"] == 1
