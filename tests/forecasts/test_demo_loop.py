"""The demo's closed loop: a forecast order opens before the dispenser is empty, the crew
resolves it, the simulated dispenser is refilled and the alarm clears; the lamp shelf's
reorder comes due."""

from __future__ import annotations

import random
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from devices.base import SimDevice
from devices.restroom import simulate_events
from hub.alarms.rules import RuleBook
from hub.clock import ManualClock
from hub.db import session_factory
from hub.demo_crew import DemoCrew, demo_settings, seed_lamps
from hub.forecasts.flows import forecast_pass
from hub.parts.flows import reorder_pass
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.pipeline import alarms_of, register, send, unique_site


def test_the_demo_loop_refills_before_empty_and_reorders_lamps(fresh_engine: Engine) -> None:
    clock = ManualClock()
    site = unique_site("demo")
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        (wc,) = register(
            session, clock, site, [("restroom-1", DeviceKind.restroom, "clubhouse/1/wc")]
        ).values()
        for k in range(60):
            clock.advance(timedelta(minutes=10))
            send(session, clock, wc, {"paper_pct": 90.0 - k, "soap_pct": 95.0, "towel_pct": 95.0})
        forecast_pass(session=session, rules=RuleBook(), policy=SlaPolicy(), now=clock.now())
        [alarm] = alarms_of(session, wc.id)
        assert alarm.type == "supplies_forecast"
        assert alarm.detail["level"] > 25  # opened hours before empty
        session.commit()
    sim = SimDevice(site, DeviceKind.restroom, "restroom-1", random.Random(1))
    sim.memory.update(paper=31.0, soap=95.0, towel=95.0, closed_loop=True)
    crew = DemoCrew(sessions, site_id=site, policy=SlaPolicy())
    clock.advance(timedelta(minutes=2))
    assert crew.step(sims={"restroom-1": sim}, now=clock.now())
    events = simulate_events(sim)
    assert {"type": "refilled", "item": "paper"} in events
    with sessions() as session:
        (order,) = session.scalars(select(WorkOrder).where(WorkOrder.site_id == site)).all()
        assert order.status == "resolved"
        for event in events:
            send(session, clock, wc, event, channel="event")
        assert alarms_of(session, wc.id) == []
        part = seed_lamps(session=session, site_id=site, now=clock.now())
        assert part is not None
        assert seed_lamps(session=session, site_id=site, now=clock.now()) is None
        assert part.id in reorder_pass(session=session, now=clock.now(), zone=UTC).due
        session.commit()


def test_the_demo_gets_a_short_forecast_lead_unless_configured(tmp_path: Path) -> None:
    settings = demo_settings(Settings(data_dir=tmp_path), "sunshine-garden")
    assert settings.forecast_check_seconds == 30
    assert settings.rules_file is not None
    rule = RuleBook.from_file(settings.rules_file).rule(
        "sunshine-garden", "restroom", "supplies_forecast"
    )
    assert rule is not None
    assert rule.params["lead_min"] == 10
    own = tmp_path / "mine.toml"
    own.write_text("", encoding="utf-8")
    kept = demo_settings(
        Settings(data_dir=tmp_path, rules_file=own, forecast_check_seconds=120), "x"
    )
    assert kept.rules_file == own
    assert kept.forecast_check_seconds == 120
