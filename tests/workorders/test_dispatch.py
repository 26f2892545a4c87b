"""Dispatch: heads and managers give a department's orders to its technicians (and take them
back); the board puts unassigned and overdue orders first beside each technician's load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import ManualClock
from hub.live import flows as live_flows
from hub.live.models import LiveEvent
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import alarms_of, register, send

ORDERS = "/api/v1/work-orders"


@pytest.fixture
def staff(
    db: Session, clock: ManualClock, settings: Settings, sites: tuple[str, str]
) -> Callable[..., dict[str, str]]:
    """A user of a role (a head if asked) with a token: their name and the auth header."""

    def make(name: str, role: Role, *, head: bool = False, site: str = SITE) -> dict[str, str]:
        user = create_user(
            session=db, name=name, role=role, site_ids=[site], now=clock.now(), department_head=head
        )
        token = issue_token(
            session=db, user=user, pepper=settings.token_pepper.get_secret_value(), now=clock.now()
        )
        return {"name": name, **bearer(token)}

    return make


def _auth(who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def _order(client: TestClient, who: dict[str, str], department: str, **extra: Any) -> int:
    body = {"site": SITE, "title": f"{department} 故障", "department": department, **extra}
    response = client.post(ORDERS, json=body, headers=_auth(who))
    assert response.status_code == 201, response.text
    order_id: int = response.json()["id"]
    return order_id


def test_a_head_dispatches_and_reassigns_within_the_department(
    client: TestClient, staff: Callable[..., dict[str, str]], db: Session, clock: ManualClock
) -> None:
    live_flows.install(db, clock)  # what the hub's sessions log for the pages, this one too
    desk = staff("前台 小王", Role.front_desk)
    head = staff("工程主管 老陈", Role.engineer, head=True)
    wang = staff("工程 王师傅", Role.engineer)
    li = staff("工程 李师傅", Role.engineer)
    cleaner = staff("保洁 赵阿姨", Role.cleaner)
    order_id = _order(client, desk, "engineering")
    url = f"{ORDERS}/{order_id}/assign"
    done = client.post(url, json={"assignee": wang["name"]}, headers=_auth(head))
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["assignee"]) == ("dispatched", wang["name"])
    clock.advance(minutes=5)
    again = client.post(
        url, json={"assignee": li["name"], "note": "王师傅在3号楼"}, headers=_auth(head)
    )
    assert again.status_code == 200, again.text
    last = again.json()["history"][-1]
    assert (last["action"], last["actor"], last["from"], last["to"]) == (
        "reassigned",
        head["name"],
        "dispatched",
        "dispatched",
    )
    assert last["note"] == f"{wang['name']} → {li['name']}: 王师傅在3号楼"
    events = db.scalars(select(LiveEvent).where(LiveEvent.type == "work_order")).all()
    assert [e.data["assignee"] for e in events if e.data["id"] == order_id][-1] == li["name"]
    refusals = [
        ({"assignee": li["name"]}, head, 409),  # already theirs
        ({"assignee": cleaner["name"]}, head, 422),  # not of the department
        ({"assignee": "nobody"}, head, 422),
        ({"assignee": wang["name"]}, wang, 403),  # technicians do not dispatch
        ({"assignee": wang["name"]}, desk, 403),
        ({"assignee": "王\x00"}, head, 422),
        ({"assignee": ""}, head, 422),
        ({"assignee": "x" * 129}, head, 422),
        ({"assignee": wang["name"], "extra": 1}, head, 422),
    ]
    for body, who, status in refusals:
        response = client.post(url, json=body, headers=_auth(who))
        assert response.status_code == status, (body, response.text)
        assert "error" in response.json()


def test_heads_dispatch_only_their_department_and_managers_all(
    client: TestClient, staff: Callable[..., dict[str, str]]
) -> None:
    desk = staff("前台", Role.front_desk)
    cleaning_head = staff("保洁主管", Role.cleaner, head=True)
    manager = staff("经理", Role.manager)
    staff("工程 王", Role.engineer)
    engineering = _order(client, desk, "engineering")
    refused = client.post(
        f"{ORDERS}/{engineering}/assign", json={"assignee": "工程 王"}, headers=_auth(cleaning_head)
    )
    assert refused.status_code == 403
    done = client.post(
        f"{ORDERS}/{engineering}/assign", json={"assignee": "工程 王"}, headers=_auth(manager)
    )
    assert done.status_code == 200, done.text
    board = client.get(f"{ORDERS}/dispatch", headers=_auth(cleaning_head)).json()
    assert [d["department"] for d in board["departments"]] == ["cleaning"]
    board = client.get(f"{ORDERS}/dispatch", headers=_auth(manager)).json()
    assert [d["department"] for d in board["departments"]] == [
        "engineering",
        "cleaning",
        "security",
    ]


@pytest.mark.parametrize(
    ("role", "head", "status"),
    [
        (Role.engineer, False, 403),
        (Role.front_desk, False, 403),
        (Role.security, True, 200),
        (Role.manager, False, 200),
        (Role.admin, False, 200),
    ],
)
def test_who_reads_the_board(
    client: TestClient, staff: Callable[..., dict[str, str]], role: Role, head: bool, status: int
) -> None:
    who = staff("someone", role, head=head)
    assert client.get(f"{ORDERS}/dispatch", headers=_auth(who)).status_code == status


def test_the_board_puts_unassigned_and_overdue_first_beside_the_load(
    client: TestClient, staff: Callable[..., dict[str, str]], clock: ManualClock
) -> None:
    desk = staff("前台", Role.front_desk)
    head = staff("工程主管", Role.engineer, head=True)
    wang = staff("工程 王", Role.engineer)
    staff("工程 李", Role.engineer)
    staff("别的小区工程", Role.engineer, site=OTHER_SITE)
    old = _order(client, desk, "engineering", priority="urgent")
    client.post(f"{ORDERS}/{old}/assign", json={"assignee": wang["name"]}, headers=_auth(head))
    clock.advance(hours=30)  # the urgent order is now overdue
    fresh = _order(client, desk, "engineering")
    client.get("/api/v1/me", headers=_auth(wang))  # 王 used the hub: on duty
    board = client.get(f"{ORDERS}/dispatch", headers=_auth(head)).json()
    (engineering,) = board["departments"]
    assert [o["id"] for o in engineering["orders"]] == [fresh, old]
    assert [o["overdue"] for o in engineering["orders"]] == [False, True]
    load = {t["name"]: (t["open"], t["on_duty"], t["head"]) for t in engineering["technicians"]}
    assert load == {
        "工程 王": (1, True, False),
        "工程 李": (0, False, False),
        "工程主管": (0, True, True),
    }
    assert (
        client.get(
            f"{ORDERS}/dispatch", params={"site": OTHER_SITE}, headers=_auth(head)
        ).status_code
        == 404
    )


def test_resolving_while_the_orders_alarms_stand_asks_for_a_reason(
    client: TestClient, staff: Callable[..., dict[str, str]], db: Session, clock: ManualClock
) -> None:
    (leak,) = register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")]).values()
    send(db, clock, leak, {"leak": True}, ctx=RuleContext())
    (alarm,) = alarms_of(db, leak.id)
    order_id = alarm.work_order_id
    assert order_id is not None
    manager = staff("经理", Role.manager)
    url = f"{ORDERS}/{order_id}/transitions"
    for to in ("dispatched", "on_site"):
        body = {"to": to, "assignee": "x"} if to == "dispatched" else {"to": to}
        assert client.post(url, json=body, headers=_auth(manager)).status_code == 200
    refused = client.post(url, json={"to": "resolved"}, headers=_auth(manager))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "alarms_active"
    assert refused.json()["error"]["details"]["field"] == "note"
    done = client.post(
        url, json={"to": "resolved", "note": "灯已换,待复位"}, headers=_auth(manager)
    )
    assert done.status_code == 200, done.text
