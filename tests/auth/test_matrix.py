"""The role × action matrix of docs/architecture.md, route by route, for every role.

The expectations are written out here, not read from `hub.access`, so the table in the
code and this one have to agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from tests.conftest import SITE, bearer
from tests.pipeline import alarms_of, register, send

R = Role
ALL = tuple(Role)
ORDERS = "/api/v1/work-orders"
COMPLAINTS = "/api/v1/complaints"
LIGHT = "3号楼12层走廊灯坏了好几天了,晚上回家很黑"


class Caller:
    """A user of one role, with their name as the hub knows it."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)
        self.name: str = client.get("/api/v1/me", headers=self.headers).json()["name"]

    def post(self, url: str, body: dict[str, Any] | None = None) -> Any:
        """POST as this user."""
        return self.client.post(url, json=body, headers=self.headers)


@pytest.fixture
def as_role(client: TestClient, make_token: Callable[..., str]) -> Callable[[Role], Caller]:
    """A new user of the given role in the test site."""
    return lambda role: Caller(client, make_token(role))


def _order(desk: Caller, department: str, **extra: Any) -> int:
    body = {"site": SITE, "title": "走廊灯不亮", "department": department, **extra}
    response = desk.post(ORDERS, body)
    assert response.status_code == 201, response.text
    order_id: int = response.json()["id"]
    return order_id


OPEN = {
    # role: departments it may open orders for
    R.front_desk: {"engineering", "cleaning", "security"},
    R.manager: {"engineering", "cleaning", "security"},
    R.admin: {"engineering", "cleaning", "security"},
    R.engineer: {"engineering"},
    R.cleaner: {"cleaning"},
    R.security: {"security"},
}


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("department", ["engineering", "cleaning", "security"])
def test_who_opens_orders_for_which_department(
    as_role: Callable[[Role], Caller], role: Role, department: str
) -> None:
    body = {"site": SITE, "title": "门禁故障", "department": department}
    response = as_role(role).post(ORDERS, body)
    assert response.status_code == (201 if department in OPEN[role] else 403), response.text


MOVES_ANY = {R.front_desk, R.manager, R.admin}
FIELD_DEPARTMENT = {R.engineer: "engineering", R.cleaner: "cleaning", R.security: "security"}


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("department", ["engineering", "cleaning"])
def test_who_moves_which_orders(
    as_role: Callable[[Role], Caller], role: Role, department: str
) -> None:
    desk = as_role(R.front_desk)
    order_id = _order(desk, department)
    caller = as_role(role)
    response = caller.post(
        f"{ORDERS}/{order_id}/transitions", {"to": "dispatched", "assignee": "x"}
    )
    allowed = role in MOVES_ANY or FIELD_DEPARTMENT.get(role) == department
    assert response.status_code == (200 if allowed else 403), response.text


@pytest.mark.parametrize("role", [R.engineer, R.cleaner, R.security])
def test_field_staff_move_an_order_assigned_to_them_by_name(
    as_role: Callable[[Role], Caller], role: Role
) -> None:
    desk = as_role(R.front_desk)
    caller = as_role(role)
    other_department = "cleaning" if role != R.cleaner else "engineering"
    order_id = _order(desk, other_department, assignee=caller.name)
    url = f"{ORDERS}/{order_id}/transitions"
    assert caller.post(url, {"to": "dispatched"}).status_code == 200
    assert caller.post(url, {"to": "on_site"}).status_code == 200
    # ...but once it is handed to someone else, it is no longer theirs to move.
    assert desk.post(url, {"to": "on_hold", "note": "等配件 waiting for parts"}).status_code == 200
    assert desk.post(url, {"to": "dispatched", "assignee": "someone-else"}).status_code == 200
    assert caller.post(url, {"to": "on_site"}).status_code == 403


@pytest.mark.parametrize("role", ALL)
def test_only_the_desk_calls_back_and_closes(as_role: Callable[[Role], Caller], role: Role) -> None:
    desk = as_role(R.front_desk)
    engineer = as_role(R.engineer)
    order_id = _order(desk, "engineering")
    url = f"{ORDERS}/{order_id}/transitions"
    for body in ({"to": "dispatched", "assignee": engineer.name}, {"to": "on_site"}):
        assert engineer.post(url, body).status_code == 200
    assert engineer.post(url, {"to": "resolved"}).status_code == 200
    response = as_role(role).post(url, {"to": "callback"})
    assert response.status_code == (200 if role in MOVES_ANY else 403), response.text


def _complaint(caller: Caller, **body: Any) -> dict[str, Any]:
    response = caller.post(COMPLAINTS, {"content": LIGHT, **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("role", ALL)
def test_everyone_files_a_complaint_and_the_desk_runs_it(
    as_role: Callable[[Role], Caller], role: Role
) -> None:
    caller = as_role(role)
    complaint = _complaint(caller, channel="staff")
    moved = caller.post(f"{COMPLAINTS}/{complaint['id']}/transitions", {"to": "verified"})
    assert moved.status_code == (200 if role in MOVES_ANY else 403), moved.text
    reclassified = caller.post(
        f"{COMPLAINTS}/{complaint['id']}/classification",
        {"category": "sanitation", "reason": "其实是保洁问题"},
    )
    assert reclassified.status_code == (200 if role in MOVES_ANY else 403), reclassified.text
    opened = caller.post(f"{COMPLAINTS}/{complaint['id']}/work-orders", {})
    assert opened.status_code == (201 if role in MOVES_ANY else 403), opened.text
    with_order = caller.post(COMPLAINTS, {"content": LIGHT, "open_work_order": True})
    assert with_order.status_code == (201 if role in MOVES_ANY else 403), with_order.text


REPLY = {"text": "您好,我们已安排师傅今天下午处理,处理完会回访您。"}


@pytest.mark.parametrize("role", ALL)
def test_the_desk_and_the_receiver_reply(as_role: Callable[[Role], Caller], role: Role) -> None:
    desk = as_role(R.front_desk)
    caller = as_role(role)
    taken_by_desk = _complaint(desk)
    response = caller.post(f"{COMPLAINTS}/{taken_by_desk['id']}/replies", REPLY)
    assert response.status_code == (201 if role in MOVES_ANY else 403), response.text
    taken_by_them = _complaint(caller, channel="staff")
    own = caller.post(f"{COMPLAINTS}/{taken_by_them['id']}/replies", REPLY)
    assert own.status_code == 201, own.text


@pytest.mark.parametrize("role", ALL)
def test_anyone_alerts_management(as_role: Callable[[Role], Caller], role: Role) -> None:
    complaint = _complaint(as_role(R.front_desk))
    response = as_role(role).post(
        f"{COMPLAINTS}/{complaint['id']}/escalations", {"media_exposure": True}
    )
    assert response.status_code == 201, response.text


CLEARS = {R.engineer, R.manager, R.admin}


@pytest.mark.parametrize("role", ALL)
def test_who_acknowledges_and_clears_alarms_and_reads_dead_letters(
    as_role: Callable[[Role], Caller], role: Role, db: Session, clock: ManualClock
) -> None:
    (leak,) = register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")]).values()
    send(db, clock, leak, {"leak": True}, ctx=RuleContext())
    (alarm,) = alarms_of(db, leak.id)
    caller = as_role(role)
    assert caller.post(f"/api/v1/alarms/{alarm.id}/ack").status_code == 200
    cleared = caller.post(f"/api/v1/alarms/{alarm.id}/clear")
    assert cleared.status_code == (200 if role in CLEARS else 403), cleared.text
    letters = caller.client.get("/api/v1/dead-letters", headers=caller.headers)
    assert letters.status_code == (200 if role in CLEARS else 403), letters.text


DISPATCHES = {R.manager, R.admin}


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("head", [False, True])
def test_who_dispatches(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    as_role: Callable[[Role], Caller],
    role: Role,
    head: bool,
) -> None:
    """Managers dispatch every department; a field user only when they head theirs."""
    user = create_user(
        session=db, name=f"{role}-head-{head}", role=role, site_ids=[SITE], now=clock.now(),
        department_head=head,
    )  # fmt: skip
    pepper = settings.token_pepper.get_secret_value()
    caller = Caller(client, issue_token(session=db, user=user, pepper=pepper, now=clock.now()))
    create_user(session=db, name="工程 王", role=R.engineer, site_ids=[SITE], now=clock.now())
    order_id = _order(as_role(R.front_desk), "engineering")
    board = client.get(f"{ORDERS}/dispatch", headers=caller.headers)
    response = caller.post(f"{ORDERS}/{order_id}/assign", {"assignee": "工程 王"})
    may = role in DISPATCHES or (head and role == R.engineer)
    reads = role in DISPATCHES or (head and role in FIELD_DEPARTMENT)
    assert board.status_code == (200 if reads else 403), board.text
    assert response.status_code == (200 if may else 403), response.text
