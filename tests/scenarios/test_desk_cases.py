"""DOMAIN.md cases 3, 4 and 6 as the front desk meets them: the device traffic first (or
none), the owner at the desk, what the desk sees and says, what happens next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.complaints.phrases import check
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.registry.enums import DeviceKind
from hub.registry.service import ensure_location
from hub.settings import Settings
from hub.signals.jobs import evaluate_durations
from hub.workorders.models import WorkOrder
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")

API = "/api/v1"
POLICIES = Policies.from_settings(Settings())


def _post(client: TestClient, url: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(API + url, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_case_3_corridor_lights_out_for_days_the_desk_says_why(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """Lamps out on five floors, the order on hold for the late lamps; an owner storms in."""
    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))  # 19:00 in Shanghai
    lights = register(
        db, clock, SITE, [(f"light-b3-f{f:02d}", DeviceKind.light, f"3/{f}") for f in range(8, 13)]
    )
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    ctx = RuleContext()
    for light in lights.values():
        send(db, clock, light, {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    watch(session=db, policies=POLICIES, now=clock.now())
    (order,) = db.scalars(select(WorkOrder)).all()
    engineer = bearer(make_token(Role.engineer))
    _post(
        client,
        f"/work-orders/{order.id}/transitions",
        engineer,
        to="dispatched",
        assignee="eng-wang",
    )
    _post(
        client,
        f"/work-orders/{order.id}/transitions",
        engineer,
        to="on_hold",
        note="等灯管到货 lamps not delivered yet",
    )
    clock.advance(days=3)
    desk = bearer(make_token(Role.front_desk))
    case = _post(
        client,
        "/complaints",
        desk,
        content="3号楼12层走廊灯坏了好几天了，晚上回家很黑，你们物业到底管不管！",
        unit="3/12/1201",
        channel="visit",
    )
    known = case["known_issue"]
    assert known["work_order_id"] == order.id
    assert known["status"] == "on_hold"
    assert known["hold_reason"] == "等灯管到货 lamps not delivered yet"
    assert known["on_hold_since"].startswith("2026-11-23T11:02")
    reply = known["reply_suggestion"]
    assert "等灯管到货" in reply
    assert "11月23日 19:02" in reply
    assert "工程部维修人员" in reply
    assert "eng-wang" not in reply
    assert "on hold since Nov 23, 19:02" in known["reply_suggestion_en"]
    assert check(reply) == []
    assert check(known["reply_suggestion_en"]) == []
    notices = client.get(f"{API}/notices?active=true", headers=desk).json()["items"]
    assert [n["work_order_id"] for n in notices] == [order.id]
    assert sorted(notices[0]["locations"]) == [f"3/{f}" for f in range(10, 13)] + ["3/8", "3/9"]
    assert any(link["type"] == "notice" for link in case["links"])
    ask = client.post(f"{API}/complaints/{case['id']}/work-orders", json={}, headers=desk)
    assert ask.status_code == 200  # no second order for the same dark corridors
    assert len(db.scalars(select(WorkOrder)).all()) == 1


def test_case_4_burst_pipe_at_4_2_301_someone_shuts_the_water_first(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """The pipe-well sensor reports; the owner runs to the desk; no technician is free."""
    guard = make_token(Role.security)
    assert guard
    leak = register(db, clock, SITE, [("leak-b4-f03", DeviceKind.leak, "4/3/pipe-well")])[
        "leak-b4-f03"
    ]
    ensure_location(session=db, site_id=SITE, path="4/3/301")
    send(db, clock, leak, {"leak": True, "flow_lpm": 45, "pressure_kpa": 80})
    watch(session=db, policies=POLICIES, now=clock.now())
    desk = bearer(make_token(Role.front_desk))
    case = _post(
        client, "/complaints", desk, content="4-2-301家里水管爆了，水流了一地！", channel="visit"
    )
    known = case["known_issue"]
    assert case["location"] == "4/3/301"
    assert (known["department"], known["next_step"]) == ("engineering", "dispatch")
    assert "工程部" in known["reply_suggestion"]
    clock.advance(minutes=2)  # the urgent order's dispatch minute passes: nobody took it
    watch(session=db, policies=POLICIES, now=clock.now())
    again = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()["known_issue"]
    task = client.get(f"{API}/work-orders/{again['shutoff_order_id']}", headers=desk).json()
    assert (task["department"], task["priority"], task["status"]) == (
        "security",
        "urgent",
        "dispatched",
    )
    assert "先关水阀" in task["title"]
    assert "关闭水阀" in again["reply_suggestion"]
    assert check(again["reply_suggestion"]) == []
    order = client.get(f"{API}/work-orders/{known['work_order_id']}", headers=desk).json()
    assert "first_response" in [e["action"] for e in order["history"]]


def test_case_6_aged_pipe_in_a_home_the_neighbour_below_is_the_same_issue(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    """No sensor in the home: the first owner's complaint opens the order, the one below joins
    it; once the pipe is replaced both are called back within two hours."""
    for unit in ("6/8/801", "6/7/701"):
        ensure_location(session=db, site_id=SITE, path=unit)
    desk = bearer(make_token(Role.front_desk))
    first = _post(
        client,
        "/complaints",
        desk,
        content="家里的水管老化漏水，已经第二次了",
        unit="6/8/801",
        open_work_order=True,
    )
    assert first["known_issue"] is None
    (order_id,) = first["work_order_ids"]
    clock.advance(hours=1)
    below = _post(
        client,
        "/complaints",
        desk,
        content="楼上漏水渗到我家天花板了",
        unit="6/7/701",
        open_work_order=True,
    )
    assert below["known_issue"]["work_order_id"] == order_id
    assert below["work_order_ids"] == [order_id]
    assert any("one floor above" in r for r in below["known_issue"]["reasons"])
    engineer = bearer(make_token(Role.engineer))
    for to, extra in (("dispatched", {"assignee": "eng-wang"}), ("on_site", {})):
        _post(client, f"/work-orders/{order_id}/transitions", engineer, to=to, **extra)
    clock.advance(hours=4)  # the agreed replacement of the old pipe
    _post(client, f"/work-orders/{order_id}/transitions", engineer, to="resolved")
    for case in (first, below):
        shown = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
        assert shown["due"]["callback"]["due_at"].startswith("2026-11-23T16:00")
        assert shown["history"][-1]["action"] == "callback_due"
