"""One entry point for "an order moved": whoever moves an order — the API route, the pages,
the desk's merge of a sensor order, the shut-off task — the same registered reactions run in
the move's transaction (a notice comes down, the attached complaints' callbacks fall due).

Each test registers one more reaction on the test's session, as a further domain would at
start-up, and proves it ran for that caller with the hub's own reactions beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock, SystemClock
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.db import session_factory
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Device
from hub.registry.service import ensure_location
from hub.settings import Settings
from hub.signals.jobs import evaluate_durations
from hub.wiring import wire
from hub.workorders import reactions
from hub.workorders.models import WorkOrder
from hub.workorders.reactions import Moved
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")

API = "/api/v1"
POLICIES = Policies.from_settings(Settings())
HUB_REACTIONS = ["notices", "callbacks", "parts"]


@dataclass
class Seen:
    """What the extra reaction saw: each move, and the reactions registered beside it."""

    moves: list[tuple[int, str, str, str]] = field(default_factory=list)
    beside: list[list[str]] = field(default_factory=list)

    def __call__(self, session: Session, moved: Moved) -> None:
        self.moves.append((moved.order.id, moved.source, moved.target, moved.actor))
        self.beside.append([n for n in reactions.registered(session) if n != "seen"])


@pytest.fixture
def seen(db: Session) -> Seen:
    """A further reaction registered on the test's session, as a domain would at start-up."""
    recorder = Seen()
    reactions.register(db, "seen", recorder)
    return recorder


@pytest.fixture
def desk(make_token: Callable[..., str]) -> dict[str, str]:
    """A front-desk user's header."""
    return bearer(make_token(Role.front_desk))


def _orders(db: Session) -> list[WorkOrder]:
    return list(db.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def _file(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/complaints", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def lamp_order(
    db: Session, clock: ManualClock, client: TestClient, desk: dict[str, str]
) -> tuple[WorkOrder, dict[str, Any]]:
    """A corridor light out: its sensor order with a notice up, and a complaint attached."""
    device: Device = register(db, clock, SITE, [("light-b3-f12", DeviceKind.light, "3/12")])[
        "light-b3-f12"
    ]
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    ctx = RuleContext()
    send(db, clock, device, {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    watch(session=db, policies=POLICIES, now=clock.now())
    clock.advance(minutes=30)
    (order,) = _orders(db)
    case = _file(client, desk, content="3号楼12层走廊灯坏了")
    assert case["known_issue"]["work_order_id"] == order.id
    assert len(client.get(f"{API}/notices?active=true", headers=desk).json()["items"]) == 1
    return order, case


def _reacted_to_resolution(
    client: TestClient, desk: dict[str, str], clock: ManualClock, case: dict[str, Any]
) -> None:
    """The hub's reactions to a resolution: the callback due in 2 h, the notice down."""
    shown = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
    assert shown["history"][-1]["action"] == "callback_due"
    due = datetime.fromisoformat(shown["due"]["callback"]["due_at"])
    assert due == clock.now() + timedelta(hours=2)
    assert client.get(f"{API}/notices?active=true", headers=desk).json()["items"] == []


def test_the_route_runs_the_reactions(
    client: TestClient,
    desk: dict[str, str],
    clock: ManualClock,
    seen: Seen,
    make_token: Callable[..., str],
    lamp_order: tuple[WorkOrder, dict[str, Any]],
) -> None:
    order, case = lamp_order
    engineer = bearer(make_token(Role.engineer))
    resolved = {"note": "lamp changed"}  # its alarm stands until the next reading: say so
    for to, extra in (
        ("dispatched", {"assignee": "eng-wang"}),
        ("on_site", {}),
        ("resolved", resolved),
    ):
        response = client.post(
            f"{API}/work-orders/{order.id}/transitions", json={"to": to, **extra}, headers=engineer
        )
        assert response.status_code == 200, response.text
    assert [m[1:3] for m in seen.moves] == [
        ("open", "dispatched"),
        ("dispatched", "on_site"),
        ("on_site", "resolved"),
    ]
    assert seen.beside == [HUB_REACTIONS] * 3
    _reacted_to_resolution(client, desk, clock, case)


def test_the_page_runs_the_reactions(
    client: TestClient,
    desk: dict[str, str],
    clock: ManualClock,
    seen: Seen,
    make_token: Callable[..., str],
    lamp_order: tuple[WorkOrder, dict[str, Any]],
) -> None:
    order, case = lamp_order
    engineer = {**bearer(make_token(Role.engineer)), "Accept-Language": "en"}
    url = f"/engineer/orders/{order.id}/move"
    for to in ("dispatched", "on_site", "resolved"):
        form = {"to": to, "note": "lamp changed"} if to == "resolved" else {"to": to}
        assert client.post(url, data=form, headers=engineer).status_code == 200
    assert [m[0:3] for m in seen.moves][-1] == (order.id, "on_site", "resolved")
    assert seen.beside[-1] == HUB_REACTIONS
    _reacted_to_resolution(client, desk, clock, case)


def test_the_merge_of_a_sensor_order_runs_the_reactions(
    client: TestClient, desk: dict[str, str], db: Session, clock: ManualClock, seen: Seen
) -> None:
    leak = register(db, clock, SITE, [("leak-b2-f05", DeviceKind.leak, "2/5/pipe-well")])[
        "leak-b2-f05"
    ]
    ensure_location(session=db, site_id=SITE, path="2/4/401")
    _file(client, desk, content="天花板一直在滴水", unit="2/4/401", open_work_order=True)
    clock.advance(minutes=12)
    send(db, clock, leak, {"leak": True})
    own, sensor = _orders(db)
    assert watch(session=db, policies=POLICIES, now=clock.now()).merged == 1
    assert seen.moves == [(sensor.id, "open", "cancelled", "correlation")]
    assert seen.beside == [HUB_REACTIONS]
    assert client.get(f"{API}/notices", headers=desk).json()["items"] == []


def test_the_shut_off_task_runs_the_reactions(
    client: TestClient,
    desk: dict[str, str],
    db: Session,
    clock: ManualClock,
    seen: Seen,
    make_token: Callable[..., str],
) -> None:
    make_token(Role.security)
    leak = register(db, clock, SITE, [("leak-b4-f03", DeviceKind.leak, "4/3/pipe-well")])[
        "leak-b4-f03"
    ]
    ensure_location(session=db, site_id=SITE, path="4/3/301", leaf_kind=LocationKind.unit)
    send(db, clock, leak, {"leak": True, "flow_lpm": 40})
    clock.advance(minutes=2)
    watch(session=db, policies=POLICIES, now=clock.now())
    _order, task = _orders(db)
    assert seen.moves == [(task.id, "open", "dispatched", "correlation")]
    assert seen.beside == [HUB_REACTIONS]


def test_the_hubs_sessions_carry_the_reactions_and_plain_ones_none(db: Session) -> None:
    engine = db.get_bind()
    wired = wire(session_factory(engine), settings=Settings(), clock=SystemClock())
    with wired() as session:
        assert list(reactions.registered(session)) == HUB_REACTIONS
    with session_factory(engine)() as plain:
        assert list(reactions.registered(plain)) == []
    again = wire(wired, settings=Settings(), clock=SystemClock())  # start-up twice
    with again() as session:
        assert list(reactions.registered(session)) == HUB_REACTIONS


def test_the_app_wires_its_sessions(app: FastAPI) -> None:
    with app.state.sessions() as session:
        assert list(reactions.registered(session)) == HUB_REACTIONS
