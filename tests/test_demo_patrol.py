"""The demo acts out DOMAIN.md case 1: a patrol log saying an emptied paper box was fine."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.alarms.rules import RuleBook
from hub.clock import ManualClock
from hub.db import session_factory
from hub.demo import DEMO_SITE, DemoPatrol
from hub.inspections.models import Discrepancy
from hub.registry.enums import DeviceKind
from hub.registry.service import get_or_create_site
from tests.pipeline import register, send


def test_the_demo_patrol_logs_an_emptied_box_as_fine_and_is_caught(fresh_engine: Engine) -> None:
    clock = ManualClock()
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        get_or_create_site(session=session, site_id=DEMO_SITE, name="阳光花园", now=clock.now())
        boxes = register(
            session,
            clock,
            DEMO_SITE,
            [
                ("restroom-club-2f-men", DeviceKind.restroom, "clubhouse/2/men-restroom"),
                ("restroom-club-1f-men", DeviceKind.restroom, "clubhouse/1/men-restroom"),
            ],
        )
        send(session, clock, boxes["restroom-club-2f-men"], {"paper_pct": 60.0})
        send(session, clock, boxes["restroom-club-1f-men"], {"paper_pct": 60.0})
        clock.advance(minutes=2)
        send(session, clock, boxes["restroom-club-2f-men"], {"paper_pct": 0.0})
        send(session, clock, boxes["restroom-club-1f-men"], {"paper_pct": 55.0})
        session.commit()
    patrol = DemoPatrol(sessions, zone=UTC, rules=RuleBook())
    clock.advance(seconds=40)
    faulted = ["restroom-club-2f-men", "restroom-club-1f-men"]
    (logged,) = patrol.check(faulted=faulted, now=clock.now())
    assert patrol.check(faulted=faulted, now=clock.now() + timedelta(minutes=1)) == []  # once
    with sessions() as session:
        (found,) = session.scalars(select(Discrepancy)).all()
        assert (found.inspection_id, found.device_id, found.item, found.claimed) == (
            logged,
            "restroom-club-2f-men",
            "paper",
            "ok",
        )


def test_the_demo_files_the_drivers_complaint_once_after_the_gate_press() -> None:
    from datetime import datetime

    from hub.demo import DISPUTE_AFTER, DemoDispute

    filed: list[dict[str, object]] = []

    def post(body: dict[str, object]) -> int:
        filed.append(body)
        return 7

    dispute = DemoDispute(post)
    pressed = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert dispute.check(pressed_at=None, now=pressed) is None
    assert dispute.check(pressed_at=pressed, now=pressed + DISPUTE_AFTER / 2) is None
    assert dispute.check(pressed_at=pressed, now=pressed + DISPUTE_AFTER) == 7
    assert dispute.check(pressed_at=pressed, now=pressed + 3 * DISPUTE_AFTER) == 7
    (body,) = filed
    assert body["location"] == "garage/entrance"  # where gate-garage stands
