"""Notices: only sensor orders on shared parts get one; it grows with its order, comes down
when the order is resolved, and every change goes to the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.clock import ManualClock
from hub.notices import service
from hub.notices.flows import on_order_moved, on_orders_opened
from hub.outbox.models import OutboxMessage
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.service import ensure_location
from hub.signals.jobs import evaluate_durations
from hub.workorders import service as orders
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.conftest import SITE
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")


def _orders(db: Session) -> list[WorkOrder]:
    return list(db.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def _events(db: Session) -> list[str]:
    return [
        m.payload["event"] for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    ]


def test_a_leak_in_a_home_or_a_low_battery_gets_no_notice(db: Session, clock: ManualClock) -> None:
    ensure_location(session=db, site_id=SITE, path="4/3/301", leaf_kind=LocationKind.unit)
    devices = register(
        db,
        clock,
        SITE,
        [
            ("leak-home", DeviceKind.leak, "4/3/301"),
            ("leak-well", DeviceKind.leak, "4/3/pipe-well"),
        ],
    )
    send(db, clock, devices["leak-home"], {"leak": True})
    send(db, clock, devices["leak-well"], {"leak": False, "battery": 5})
    assert len(_orders(db)) == 2
    assert (
        on_orders_opened(session=db, order_ids=[o.id for o in _orders(db)], now=clock.now()) == []
    )
    assert _events(db) == []


def test_a_notice_grows_with_its_order_and_comes_down_when_resolved(
    db: Session, clock: ManualClock
) -> None:
    lights = register(
        db, clock, SITE, [(f"light-b3-f{f}", DeviceKind.light, f"3/{f}") for f in (11, 12)]
    )
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    ctx = RuleContext()
    send(db, clock, lights["light-b3-f11"], {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    (order,) = _orders(db)
    (notice,) = on_orders_opened(session=db, order_ids=[order.id], now=clock.now())
    assert (notice.locations, notice.units) == (["3/11"], 0)
    send(db, clock, lights["light-b3-f12"], {"on": True, "power_w": 0.0}, ctx=ctx)
    clock.advance(minutes=2)
    evaluate_durations(session=db, ctx=ctx, now=clock.now())
    assert len(_orders(db)) == 1  # grouped per building
    on_orders_opened(session=db, order_ids=[order.id], now=clock.now())
    assert (notice.locations, notice.units) == (["3/11", "3/12"], 1)
    assert "3号楼11层、3号楼12层" in notice.body
    policy = SlaPolicy()
    for to in ("dispatched", "on_site", "resolved"):
        orders.transition(
            session=db,
            policy=policy,
            order=order,
            to=to,
            actor="eng",
            now=clock.now(),
            assignee="eng",
        )
    assert notice.withdrawn_at == clock.now()  # the move's own reaction took it down
    assert on_order_moved(session=db, order=order, now=clock.now()) is None  # once only
    assert service.active(session=db, site_id=SITE) == []
    assert _events(db) == ["published", "updated", "withdrawn"]
    (message,) = {m.topic for m in db.scalars(select(OutboxMessage))}
    assert message == f"fh/{SITE}/hub/notice"


def test_a_notice_title_says_each_place_once_and_no_word_twice() -> None:
    from hub.notices.wording import text

    paths = [
        "clubhouse/2/men-restroom",
        "clubhouse/2/women-restroom",
        "clubhouse/2/women-restroom",
    ]
    said = text("supplies_empty", paths)
    assert said.title == "会所2楼男卫生间、女卫生间用品补充中"
    assert said.title_en.endswith(": restroom supplies being refilled")
    assert not any("\u4e00" <= c <= "\u9fff" for c in said.title_en)
    assert "/" not in said.title
