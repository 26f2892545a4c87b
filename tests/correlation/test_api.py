"""What the desk sees through the API: links, the known issue, one order per fault, callbacks
due on resolution, notices, the look-up before filing, the proactive measure; on SQLite and
PostgreSQL. Device traffic goes through the real ingest path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
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
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Device
from hub.registry.service import ensure_location
from hub.settings import Settings
from hub.signals.jobs import evaluate_durations
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")

API = "/api/v1"
SINCE = "2026-11-20T00:00:00Z"
"""Reports default to the last full local week; these cases happen in this one."""
POLICIES = Policies.from_settings(Settings())


@pytest.fixture
def desk(make_token: Callable[..., str]) -> dict[str, str]:
    """A front-desk user's header."""
    return bearer(make_token(Role.front_desk))


@pytest.fixture
def lamp(db: Session, clock: ManualClock) -> Device:
    """The corridor light of building 3 floor 12, out for two minutes: its alarm and order."""
    device = register(db, clock, SITE, [("light-b3-f12", DeviceKind.light, "3/12")])["light-b3-f12"]
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    ctx = RuleContext()
    send(db, clock, device, {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    watch(session=db, policies=POLICIES, now=clock.now())
    clock.advance(minutes=30)
    return device


def file(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST a complaint; the created case."""
    response = client.post(f"{API}/complaints", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def orders(db: Session) -> list[WorkOrder]:
    """Every work order, oldest first."""
    return list(db.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def test_a_complaint_about_a_known_fault_is_attached_to_its_order(
    client: TestClient, desk: dict[str, str], db: Session, lamp: Device
) -> None:
    (order,) = orders(db)
    case = file(client, desk, content="3号楼12层走廊灯坏了，晚上很黑", unit="3/12/1201")
    known = case["known_issue"]
    assert known["work_order_id"] == order.id
    assert (known["status"], known["department"]) == ("open", "engineering")
    assert known["next_step"] == "dispatch"
    assert known["alarm_ids"]
    assert known["notice_id"] is not None
    assert "月" in known["reply_suggestion"]
    assert "+08:00" not in known["reply_suggestion"]
    assert "工程部" in known["reply_suggestion"]
    assert "engineering" in known["reply_suggestion_en"]
    assert check(known["reply_suggestion"]) == []
    assert check(known["reply_suggestion_en"]) == []
    types = [link["type"] for link in case["links"]]
    assert {"work_order", "alarm", "notice"} <= set(types)
    assert [link["score"] for link in case["links"]] == sorted(
        (link["score"] for link in case["links"]), reverse=True
    )
    alarm = next(link for link in case["links"] if link["type"] == "alarm")
    assert 0 <= alarm["score"] <= 1
    assert any("same place" in r or "same floor" in r for r in alarm["reasons"])
    assert any(r.startswith("lamp_failure since") for r in alarm["reasons"])
    shown = client.get(f"{API}/work-orders/{order.id}", headers=desk).json()
    assert shown["complaint_ids"] == [case["id"]]
    again = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
    assert again["known_issue"]["work_order_id"] == order.id


def test_asking_for_an_order_anyway_returns_the_running_one(
    client: TestClient, desk: dict[str, str], db: Session, lamp: Device
) -> None:
    (order,) = orders(db)
    case = file(client, desk, content="3号楼12层走廊灯不亮", open_work_order=True)
    assert case["work_order_ids"] == [order.id]
    again = client.post(f"{API}/complaints/{case['id']}/work-orders", json={}, headers=desk)
    assert again.status_code == 200
    assert again.headers["X-Existing-Work-Order"] == str(order.id)
    history = again.json()["history"]
    assert history[-1]["action"] == "work_order_existing"
    assert "no second order" in history[-1]["note"]
    assert len(orders(db)) == 1


def test_two_complaints_about_one_fault_make_one_order(
    client: TestClient, desk: dict[str, str], db: Session
) -> None:
    ensure_location(session=db, site_id=SITE, path="5/8/801")
    ensure_location(session=db, site_id=SITE, path="5/7/701")
    first = file(client, desk, content="家里水管老化漏水", unit="5/8/801", open_work_order=True)
    (order,) = orders(db)
    second = file(
        client, desk, content="楼上漏水到我家天花板了", unit="5/7/701", open_work_order=True
    )
    assert second["known_issue"]["work_order_id"] == order.id
    assert second["work_order_ids"] == [order.id]
    assert len(orders(db)) == 1
    shown = client.get(f"{API}/work-orders/{order.id}", headers=desk).json()
    assert shown["complaint_ids"] == [first["id"], second["id"]]


def _resolve(client: TestClient, order_id: int, headers: dict[str, str]) -> dict[str, Any]:
    # The lamp's alarm still stands when the lamp is replaced: resolving says why.
    replaced = {"note": "灯管已更换 lamp replaced"}
    for to, extra in (
        ("dispatched", {"assignee": "eng-wang"}),
        ("on_site", {}),
        ("resolved", replaced),
    ):
        response = client.post(
            f"{API}/work-orders/{order_id}/transitions", json={"to": to, **extra}, headers=headers
        )
        assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_resolving_the_order_makes_every_callback_due_and_withdraws_the_notice(
    client: TestClient,
    desk: dict[str, str],
    db: Session,
    clock: ManualClock,
    lamp: Device,
    make_token: Callable[..., str],
) -> None:
    (order,) = orders(db)
    a = file(client, desk, content="3号楼12层走廊灯坏了")
    b = file(client, desk, content="The corridor light on floor 12 of building 3 is out")
    assert a["known_issue"]["work_order_id"] == b["known_issue"]["work_order_id"] == order.id
    (notice,) = client.get(f"{API}/notices?active=true", headers=desk).json()["items"]
    assert notice["work_order_id"] == order.id
    assert notice["locations"] == ["3/12"]
    assert notice["units"] == 1
    clock.advance(minutes=20)
    _resolve(client, order.id, bearer(make_token(Role.engineer)))
    for case in (a, b):
        shown = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
        due = datetime.fromisoformat(shown["due"]["callback"]["due_at"])
        assert due == clock.now() + timedelta(hours=2)
        assert shown["history"][-1]["action"] == "callback_due"
        assert shown["known_issue"]["status"] == "resolved"
        assert check(shown["known_issue"]["reply_suggestion"]) == []
    assert client.get(f"{API}/notices?active=true", headers=desk).json()["items"] == []
    (gone,) = client.get(f"{API}/notices?active=false", headers=desk).json()["items"]
    assert gone["withdrawn_at"] is not None


def test_an_alarm_after_the_complaint_links_back_and_folds_its_order_in(
    client: TestClient, desk: dict[str, str], db: Session, clock: ManualClock
) -> None:
    leak = register(db, clock, SITE, [("leak-b2-f05", DeviceKind.leak, "2/5/pipe-well")])[
        "leak-b2-f05"
    ]
    ensure_location(session=db, site_id=SITE, path="2/4/401")
    case = file(client, desk, content="天花板一直在滴水", unit="2/4/401", open_work_order=True)
    (own,) = orders(db)
    assert case["known_issue"] is None
    clock.advance(minutes=12)
    send(db, clock, leak, {"leak": True})
    own_and_sensor = orders(db)
    assert len(own_and_sensor) == 2
    done = watch(session=db, policies=POLICIES, now=clock.now())
    assert done.merged == 1
    sensor = own_and_sensor[1]
    db.refresh(sensor)
    assert sensor.status == "cancelled"
    shown = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
    alarm = next(link for link in shown["links"] if link["type"] == "alarm")
    assert any("min after" in r for r in alarm["reasons"])
    view = client.get(f"{API}/work-orders/{own.id}", headers=desk).json()
    assert len(view["alarm_ids"]) == 1
    assert client.get(f"{API}/notices", headers=desk).json()["items"] == []  # folded in first
    report = client.get(f"{API}/reports/proactive?since={SINCE}", headers=desk).json()
    (issue,) = report["sections"]["issues"]
    assert (issue["work_order_id"], issue["sensor_first"]) == (own.id, False)
    assert issue["lead_minutes"] == 12.0
    totals = report["totals"]
    assert (totals["issues"], totals["complaint_first"], totals["ratio"]) == (1, 1, 0.0)


def test_an_alarm_after_a_complaint_without_an_order_attaches_it(
    client: TestClient, desk: dict[str, str], db: Session, clock: ManualClock
) -> None:
    gate = register(db, clock, SITE, [("gate-north", DeviceKind.gate, "north-gate")])["gate-north"]
    case = file(client, desk, content="北门道闸抬不起来")
    assert case["location"] == "north-gate"
    clock.advance(minutes=3)
    send(db, clock, gate, {"arm": "down", "fault": "E12"})
    watch(session=db, policies=POLICIES, now=clock.now())
    shown = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
    (order,) = orders(db)
    assert shown["known_issue"]["work_order_id"] == order.id
    assert shown["work_order_ids"] == [order.id]


def test_the_sensor_first_lead_is_measured(
    client: TestClient, desk: dict[str, str], db: Session, lamp: Device
) -> None:
    file(client, desk, content="3号楼12层走廊灯坏了")
    report = client.get(f"{API}/reports/proactive?site={SITE}&since={SINCE}", headers=desk).json()
    (issue,) = report["sections"]["issues"]
    assert issue["sensor_first"] is True
    assert issue["lead_minutes"] == pytest.approx(31.0, abs=1.0)
    assert (report["totals"]["sensor_first"], report["totals"]["ratio"]) == (1, 1.0)
    assert report["totals"]["median_lead_minutes"] == issue["lead_minutes"]


def test_the_desk_looks_up_a_place_before_filing(
    client: TestClient, desk: dict[str, str], db: Session, lamp: Device
) -> None:
    (order,) = orders(db)
    found = client.get(f"{API}/known-issues?location=3/12/1201", headers=desk).json()
    assert found["location"] == "3/12/1201"
    (item,) = found["items"]
    assert item["work_order_id"] == order.id
    assert item["known_issue"]["reply_suggestion"]
    assert [n["work_order_id"] for n in found["notices"]] == [order.id]
    nowhere = client.get(f"{API}/known-issues?location=1/3", headers=desk).json()
    assert nowhere["location"] is None  # not in the registry, nor any place above it
    assert nowhere["reasons"] == ["location 1/3 is not in the registry, nor any place above it"]
    assert (nowhere["items"], nowhere["notices"]) == ([], [])  # said so, not the whole site
    ensure_location(session=db, site_id=SITE, path="1/3")
    elsewhere = client.get(f"{API}/known-issues?location=1/3", headers=desk).json()
    assert (elsewhere["location"], elsewhere["items"]) == ("1/3", [])
    unknown = client.get(f"{API}/known-issues?location=3/12/9999", headers=desk).json()
    assert unknown["location"] == "3/12"
    assert unknown["reasons"] == [
        "location 3/12/9999 is not in the registry: nearest known place 3/12"
    ]
    assert [i["work_order_id"] for i in unknown["items"]] == [order.id]


def test_an_unknown_place_is_the_nearest_known_one_with_a_reason(
    client: TestClient, desk: dict[str, str], db: Session, lamp: Device
) -> None:
    case = file(client, desk, content="走廊灯坏了", location="3/12/9999")
    assert case["location"] == "3/12"
    assert (
        "location 3/12/9999 is not in the registry: nearest known place 3/12"
        in case["classification"]["reasons"]
    )
    assert case["known_issue"] is not None


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/known-issues?location=%00", None),
        ("GET", "/known-issues?location=3//12", None),
        ("GET", f"/known-issues?site={OTHER_SITE}", None),
        ("GET", "/known-issues?site=nowhere", None),
        ("GET", "/known-issues?location=" + "9/" * 300, None),
        ("GET", "/reports/proactive?since=2026-11-23T00:00:00", None),
        ("GET", "/reports/proactive?since=2026-11-30T00:00:00Z&until=2026-11-23T00:00:00Z", None),
        ("GET", "/reports/proactive?format=pdf", None),
        ("GET", f"/reports/proactive?site={OTHER_SITE}", None),
        ("GET", "/notices?limit=99999999999999999999", None),
        ("GET", "/notices?active=maybe", None),
        ("POST", "/complaints", {"content": "灯坏了", "location": "3/12\u0000"}),
        ("POST", "/complaints", {"content": "灯坏了", "owner_id": 2**40}),
        ("POST", "/complaints", {"content": "灯坏了", "site": OTHER_SITE}),
        ("POST", "/complaints/99999999999/work-orders", {}),
        ("POST", "/complaints", {"content": "灯坏了", "location": "clubhouse/99/x-y"}),
    ],
)
def test_bad_input_is_never_a_server_error(
    client: TestClient, desk: dict[str, str], method: str, url: str, body: dict[str, Any] | None
) -> None:
    response = client.request(method, API + url, json=body, headers=desk)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}


def test_other_sites_see_nothing(
    client: TestClient, db: Session, lamp: Device, make_token: Callable[..., str]
) -> None:
    other = bearer(make_token(Role.front_desk, site_ids=(OTHER_SITE,)))
    assert client.get(f"{API}/notices", headers=other).json()["items"] == []
    assert client.get(f"{API}/known-issues", headers=other).json()["items"] == []
    case = client.post(
        f"{API}/complaints", json={"content": "3号楼12层走廊灯坏了"}, headers=other
    ).json()
    assert case["known_issue"] is None
    assert [link for link in case["links"] if link["type"] != "complaint"] == []


def test_a_leak_nobody_is_dispatched_to_gets_a_shut_off_task(
    client: TestClient,
    desk: dict[str, str],
    db: Session,
    clock: ManualClock,
    make_token: Callable[..., str],
) -> None:
    make_token(Role.security)
    leak = register(db, clock, SITE, [("leak-b4-f03", DeviceKind.leak, "4/3/pipe-well")])[
        "leak-b4-f03"
    ]
    ensure_location(session=db, site_id=SITE, path="4/3/301", leaf_kind=LocationKind.unit)
    send(db, clock, leak, {"leak": True, "flow_lpm": 40})
    (order,) = orders(db)
    case = file(client, desk, content="4-2-301家里水管爆了")
    assert case["known_issue"]["work_order_id"] == order.id
    clock.advance(seconds=59)
    watch(session=db, policies=POLICIES, now=clock.now())
    assert len(orders(db)) == 1  # the dispatch deadline (1 minute) has not passed yet
    clock.advance(seconds=2)
    watch(session=db, policies=POLICIES, now=clock.now())
    watch(session=db, policies=POLICIES, now=clock.now())  # once only
    task = orders(db)[1]
    assert (task.department, task.priority, task.status) == ("security", "urgent", "dispatched")
    assert task.assignee is not None
    assert task.assignee.startswith("security")
    assert "先关水阀" in task.title
    shown = client.get(f"{API}/work-orders/{order.id}", headers=desk).json()
    assert shown["history"][-1]["action"] == "first_response"
    known = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()["known_issue"]
    assert known["shutoff_order_id"] == task.id
    assert "关闭水阀" in known["reply_suggestion"]
    assert check(known["reply_suggestion"]) == []
    assert SlaPolicy().minutes("security", "urgent").on_site == 3
