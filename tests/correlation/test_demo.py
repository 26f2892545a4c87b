"""On the demo site, a complaint about each scripted fault finds that fault's order as its
known issue, with a reply, and opens no second order; shared-area faults have notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.simulator import FAULT_SCRIPT
from hub.alarms.engine import RuleContext
from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.complaints.phrases import check
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.demo import DEMO_SITE, seed_demo
from hub.registry.models import Device
from hub.settings import Settings
from hub.signals.jobs import evaluate_durations
from hub.workorders.models import WorkOrder
from tests.pipeline import send

DESK = {"Authorization": "Bearer fh_demo_front_desk"}

# Each scripted fault: the readings that act it out, and what an owner says about it.
FAULTS: dict[str, tuple[list[tuple[str, dict[str, Any], str]], str]] = {
    "leak": ([("leak-b2-f05", {"leak": True}, "telemetry")], "2号楼5层管井漏水"),
    "paper": ([("restroom-club-2f-men", {"paper_pct": 6}, "telemetry")], "会所二楼男卫生间没纸了"),
    "lamp": (
        [(f"light-b3-f{f}", {"on": True, "power_w": 0.0}, "telemetry") for f in (11, 12, 13)],
        "3号楼12层走廊灯坏了",
    ),
    "button_on_car": (
        [
            ("gate-garage", {"arm": "up", "loop_occupied": True}, "telemetry"),
            (
                "gate-garage",
                {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
                "event",
            ),
        ],
        "车库入口的道闸砸到我的车了",
    ),
    "blocked": (
        [("gate-south", {"arm": "down", "loop_occupied": True}, "telemetry")],
        "南门被大货车堵住了",
    ),
    "jammed": ([("gate-north", {"arm": "down", "fault": "E12"}, "telemetry")], "北门道闸抬不起来"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_complaint_about_a_scripted_fault_finds_its_order(
    db: Session, clock: ManualClock, client: TestClient, fault: str
) -> None:
    assert any(step.fault == fault for step in FAULT_SCRIPT)
    seed_demo(session=db, now=clock.now(), pepper=Settings().token_pepper.get_secret_value())
    ctx = RuleContext()
    readings, said = FAULTS[fault]
    for device_id, payload, channel in readings:
        send(db, clock, db.get_one(Device, device_id), payload, channel=channel, ctx=ctx)
    clock.advance(minutes=6 if fault == "blocked" else 2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    policies = Policies.from_settings(Settings())
    watch(session=db, policies=policies, now=clock.now())
    before = db.scalars(select(WorkOrder).where(WorkOrder.site_id == DEMO_SITE)).all()
    (order,) = [o for o in before if not o.title.startswith("先关水阀")]  # a leak's task aside
    alarms = db.scalars(select(Alarm).where(Alarm.work_order_id == order.id)).all()
    assert alarms
    clock.advance(seconds=30)
    case = client.post(
        "/api/v1/complaints", json={"content": said, "open_work_order": True}, headers=DESK
    ).json()
    known = case["known_issue"]
    assert known is not None, case["links"]
    assert known["work_order_id"] == order.id
    assert check(known["reply_suggestion"]) == []
    assert check(known["reply_suggestion_en"]) == []
    assert case["work_order_ids"] == [order.id]
    assert len(db.scalars(select(WorkOrder)).all()) == len(before)
    notices = client.get("/api/v1/notices?active=true", headers=DESK).json()["items"]
    if fault == "button_on_car":
        assert notices == []  # an incident for security, not a notice to residents
    else:
        assert [n["work_order_id"] for n in notices] == [order.id]
        assert known["notice_id"] == notices[0]["id"]
    assert timedelta(0) <= clock.now() - alarms[0].raised_at
