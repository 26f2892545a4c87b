"""The parts store over the API: stock movements with who and why, forecasts, bad input."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.parts.flows import reorder_pass
from hub.parts.models import Part
from hub.registry.enums import DeviceKind
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import alarms_of, register, send

PARTS = "/api/v1/parts"
LAMP = {"site": SITE, "name": "LED灯管 T8 18W", "name_en": "LED tube T8 18W", "unit": "支"}


@pytest.fixture
def manager(make_token: Callable[..., str]) -> dict[str, str]:
    """Headers of a manager of the test site."""
    return bearer(make_token(Role.manager))


def _part(client: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = client.post(PARTS, json={**LAMP, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_movements_keep_stock_and_on_order_with_who_and_why(
    client: TestClient, manager: dict[str, str]
) -> None:
    part = _part(client, manager, stock=10, min_stock=4, lead_days=14)
    url = f"{PARTS}/{part['id']}/movements"
    assert (
        client.post(url, json={"delta": 20, "reason": "ordered"}, headers=manager).status_code
        == 201
    )
    got = client.post(
        url, json={"delta": 12, "reason": "received", "note": "delivery 1"}, headers=manager
    )
    assert got.status_code == 201, got.text
    assert got.json()["stock_after"] == 22
    assert got.json()["on_order_after"] == 8
    used = client.post(url, json={"delta": -3, "reason": "used"}, headers=manager).json()
    assert used["stock_after"] == 19
    assert used["actor"].startswith("manager")
    detail = client.get(f"{PARTS}/{part['id']}", headers=manager).json()
    assert (detail["stock"], detail["on_order"]) == (19, 8)
    assert [m["reason"] for m in detail["movements"]] == [
        "used",
        "received",
        "ordered",
        "corrected",
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"delta": -11, "reason": "used"}, 422),  # below zero
        ({"delta": -11, "reason": "corrected"}, 422),
        ({"delta": 3, "reason": "used"}, 422),
        ({"delta": -3, "reason": "received"}, 422),
        ({"delta": 0, "reason": "corrected"}, 422),
        ({"delta": 10**7, "reason": "received"}, 422),
        ({"delta": 2**40, "reason": "received"}, 422),
        ({"delta": 1, "reason": "stolen"}, 422),
        ({"delta": 1, "reason": "received", "note": "a\x00b"}, 422),
        ({"delta": 1, "reason": "received", "work_order_id": 2**31}, 422),
        ({"delta": 1, "reason": "received", "work_order_id": 999_999}, 404),
        ({"delta": 1, "reason": "received", "extra": 1}, 422),
    ],
)
def test_bad_movements_are_refused(
    client: TestClient, manager: dict[str, str], body: dict[str, Any], status: int
) -> None:
    part = _part(client, manager, stock=10)
    response = client.post(f"{PARTS}/{part['id']}/movements", json=body, headers=manager)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert client.get(f"{PARTS}/{part['id']}", headers=manager).json()["stock"] == 10


@pytest.mark.parametrize(
    "extra",
    [
        {"stock": -1},
        {"min_stock": -5},
        {"lead_days": 10_000},
        {"lead_days": -1},
        {"stock": 2**63},
        {"name": ""},
        {"name": "灯\x00管"},
        {"name_en": "x" * 121},
        {"device_kind": "toaster"},
        {"unit": ""},
        {"site": "x" * 65},
    ],
)
def test_bad_parts_are_refused(
    client: TestClient, manager: dict[str, str], extra: dict[str, Any]
) -> None:
    response = client.post(PARTS, json={**LAMP, **extra}, headers=manager)
    assert response.status_code == 422, response.text


def test_a_part_of_another_site_is_not_found(
    client: TestClient, make_token: Callable[..., str], manager: dict[str, str]
) -> None:
    theirs = bearer(make_token(Role.manager, (OTHER_SITE,)))
    part = _part(client, theirs, site=OTHER_SITE, stock=5)
    assert client.post(PARTS, json={**LAMP, "site": OTHER_SITE}, headers=manager).status_code == 404
    assert client.get(f"{PARTS}/{part['id']}", headers=manager).status_code == 404
    move = {"delta": -1, "reason": "used"}
    assert (
        client.post(f"{PARTS}/{part['id']}/movements", json=move, headers=manager).status_code
        == 404
    )
    assert client.get(PARTS, headers=manager).json()["items"] == []
    asked = client.get(f"{PARTS}/forecast", params={"site": OTHER_SITE}, headers=manager)
    assert asked.status_code == 404  # another's site is not known to this manager


def test_the_same_name_twice_is_a_conflict(client: TestClient, manager: dict[str, str]) -> None:
    _part(client, manager)
    assert client.post(PARTS, json=LAMP, headers=manager).status_code == 409


def test_cleaners_and_the_desk_read_parts_but_do_not_keep_them(
    client: TestClient, make_token: Callable[..., str], manager: dict[str, str]
) -> None:
    part = _part(client, manager, stock=3)
    for role in (Role.cleaner, Role.front_desk, Role.security):
        headers = bearer(make_token(role))
        assert client.get(PARTS, headers=headers).status_code == 200
        assert client.post(PARTS, json={**LAMP, "name": "x"}, headers=headers).status_code == 403
        move = {"delta": -1, "reason": "used"}
        assert (
            client.post(f"{PARTS}/{part['id']}/movements", json=move, headers=headers).status_code
            == 403
        )
    engineer = bearer(make_token(Role.engineer))
    move = {"delta": -1, "reason": "used"}
    assert (
        client.post(f"{PARTS}/{part['id']}/movements", json=move, headers=engineer).status_code
        == 201
    )


def test_the_forecast_orders_lamps_lead_time_before_the_shelf_is_empty(
    client: TestClient, manager: dict[str, str], db: Session, clock: ManualClock
) -> None:
    part = _part(client, manager, stock=40, min_stock=2, lead_days=14)
    url = f"{PARTS}/{part['id']}/movements"
    for _day in range(40):  # a lamp a day
        clock.advance(timedelta(days=1))
        assert (
            client.post(url, json={"delta": -1, "reason": "used"}, headers=manager).status_code
            == 201
        )
        if client.get(f"{PARTS}/forecast", headers=manager).json()["items"][0]["reorder"]:
            break
    [item] = client.get(f"{PARTS}/forecast", headers=manager).json()["items"]
    assert item["reorder"] is True
    assert item["daily_use"] == pytest.approx(1.0, rel=0.05)
    stock = client.get(f"{PARTS}/{part['id']}", headers=manager).json()["stock"]
    assert stock >= 14 + 3  # ordered while the shelf still holds the lead time and the margin
    result = reorder_pass(
        session=db, now=clock.now(), zone=clock.now().tzinfo or __import__("datetime").UTC
    )
    assert part["id"] in result.due
    assert db.get_one(Part, part["id"]).reorder_since == clock.now()
    # Ordered: the lamps on order cover the run-out, the reorder clears.
    assert (
        client.post(url, json={"delta": 30, "reason": "ordered"}, headers=manager).status_code
        == 201
    )
    again = reorder_pass(
        session=db, now=clock.now(), zone=clock.now().tzinfo or __import__("datetime").UTC
    )
    assert part["id"] in again.cleared


def test_a_resolved_lamp_order_uses_a_lamp_per_failed_lamp(
    client: TestClient, manager: dict[str, str], db: Session, clock: ManualClock
) -> None:
    part = _part(client, manager, stock=5, device_kind="light")
    lights = register(db, clock, SITE, [(f"lamp-{n}", DeviceKind.light, "3/12") for n in range(2)])
    for light in lights.values():
        send(db, clock, light, {"type": "fault", "code": "lamp_open"}, channel="event")
    order_id = alarms_of(db, "lamp-0")[0].work_order_id
    assert order_id is not None
    assert alarms_of(db, "lamp-1")[0].work_order_id == order_id
    orders = f"/api/v1/work-orders/{order_id}/transitions"
    assert (
        client.post(
            orders, json={"to": "dispatched", "assignee": "王工"}, headers=manager
        ).status_code
        == 200
    )
    hold = {"to": "on_hold", "note": "等灯管", "hold_part_id": part["id"]}
    held = client.post(orders, json=hold, headers=manager)
    assert held.status_code == 200, held.text
    assert held.json()["hold_part_id"] == part["id"]
    assert "等待备件LED灯管 T8 18W，尚未订购" in held.json()["hold_reason"]
    assert "awaiting LED tube T8 18W, not yet ordered" in held.json()["hold_reason"]
    assert (
        client.post(orders, json={"to": "on_site"}, headers=manager).json()["hold_part_id"] is None
    )
    # The lamps' alarms still stand (no reading has cleared them): the resolve says why.
    resolved = {"to": "resolved", "note": "灯管已换,等传感器恢复"}
    assert client.post(orders, json=resolved, headers=manager).status_code == 200
    detail = client.get(f"{PARTS}/{part['id']}", headers=manager).json()
    assert detail["stock"] == 3
    assert detail["movements"][0]["work_order_id"] == order_id
    assert detail["movements"][0]["actor"] == "parts"


def test_a_hold_naming_another_sites_part_is_refused(
    client: TestClient, make_token: Callable[..., str], manager: dict[str, str]
) -> None:
    theirs = _part(client, bearer(make_token(Role.manager, (OTHER_SITE,))), site=OTHER_SITE)
    order = client.post(
        "/api/v1/work-orders",
        json={"site": SITE, "title": "走廊灯不亮", "department": "engineering", "assignee": "王工"},
        headers=manager,
    ).json()
    url = f"/api/v1/work-orders/{order['id']}/transitions"
    client.post(url, json={"to": "dispatched", "assignee": "王工"}, headers=manager)
    hold = {"to": "on_hold", "note": "等灯管", "hold_part_id": theirs["id"]}
    assert client.post(url, json=hold, headers=manager).status_code == 404
    assert (
        client.get(f"/api/v1/work-orders/{order['id']}", headers=manager).json()["status"]
        == "dispatched"
    )
    wrong = {"to": "on_site", "hold_part_id": theirs["id"]}
    assert client.post(url, json=wrong, headers=manager).status_code in (404, 422)


def test_a_hold_for_an_ordered_part_says_when_it_is_expected(
    client: TestClient, manager: dict[str, str], clock: ManualClock
) -> None:
    part = _part(client, manager, stock=0, lead_days=14)
    moved = client.post(
        f"{PARTS}/{part['id']}/movements", json={"delta": 30, "reason": "ordered"}, headers=manager
    )
    assert moved.status_code == 201
    order = client.post(
        "/api/v1/work-orders",
        json={"site": SITE, "title": "走廊灯不亮", "department": "engineering"},
        headers=manager,
    ).json()
    url = f"/api/v1/work-orders/{order['id']}/transitions"
    client.post(url, json={"to": "dispatched", "assignee": "王工"}, headers=manager)
    hold = {"to": "on_hold", "note": "灯管用完", "hold_part_id": part["id"]}
    held = client.post(url, json=hold, headers=manager).json()
    expected = (clock.now() + timedelta(days=14)).date().isoformat()
    assert held["hold_reason"].startswith("灯管用完 (")
    assert f"预计{expected}到货" in held["hold_reason"]
    assert f"expected {expected}" in held["hold_reason"]


def test_the_unfinished_report_lists_the_parts_to_reorder(
    client: TestClient, manager: dict[str, str]
) -> None:
    _part(client, manager, stock=3, min_stock=5)
    _part(client, manager, name="镇流器", name_en="Ballast", stock=50, min_stock=1)
    doc = client.get("/api/v1/reports/unfinished", params={"site": SITE}, headers=manager)
    assert doc.status_code == 200, doc.text
    body = doc.json()
    assert body["totals"]["parts_to_reorder"] == 1
    [row] = body["sections"]["parts"]
    assert row["part"] == "LED灯管 T8 18W LED tube T8 18W"
    assert row["stock"] == 3
    xlsx = client.get(
        "/api/v1/reports/unfinished", params={"site": SITE, "format": "xlsx"}, headers=manager
    )
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert {"待补货备件", "Parts to reorder"} & set(book.sheetnames)
