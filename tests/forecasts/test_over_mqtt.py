"""Over MQTT on both databases: dispenser readings through Mosquitto and the bridge, the
forecast opens the floor's cleaning order, a low reading joins it, the refill clears it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bridges.mqtt import Bridge
from hub.alarms.models import Alarm
from hub.alarms.rules import RuleBook
from hub.clock import ManualClock
from hub.db import session_factory
from hub.forecasts.flows import forecast_pass
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.bridges.conftest import Publisher, forget_session, wait_for
from tests.pipeline import register, unique_site
from tests.services import require_mosquitto


@pytest.mark.mosquitto
def test_forecast_order_join_and_clear_over_mqtt(fresh_engine: Engine, tmp_path: Path) -> None:
    host, port = require_mosquitto()
    site = unique_site("fcmqtt")
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        register(
            session,
            ManualClock(),
            site,
            [("wc-a", DeviceKind.restroom, "1/2/wc-a"), ("wc-b", DeviceKind.restroom, "1/2/wc-b")],
        )
        session.commit()
    settings = Settings(  # type: ignore[call-arg]
        mqtt_url=f"mqtt://{host}:{port}",  # type: ignore[arg-type]
        data_dir=tmp_path,
    )
    bridge = Bridge(settings, sessions, topics=[f"fh/{site}/+/+/+"])
    publisher = Publisher(host, port)
    sent = 0

    def publish(device: str, body: dict[str, object], channel: str = "telemetry") -> None:
        nonlocal sent
        publisher.publish(f"fh/{site}/restroom/{device}/{channel}", body)
        sent += 1

    def wait_all() -> None:
        assert wait_for(lambda: bridge.stats.committed == sent, timeout=60)

    def pass_now() -> None:
        with sessions() as session:
            forecast_pass(
                session=session, rules=RuleBook(), policy=SlaPolicy(), now=datetime.now(UTC)
            )
            session.commit()

    def alarms() -> list[Alarm]:
        with sessions() as session:
            return list(
                session.scalars(
                    select(Alarm).where(Alarm.site_id == site).order_by(Alarm.device_id, Alarm.id)
                )
            )

    try:
        bridge.start()
        assert bridge.wait_subscribed()
        start = datetime.now(UTC) - timedelta(minutes=400)
        for k in range(40):  # 6 %/h: a ends at 21 % (3.5 h left), b at 51 % (8.5 h left)
            ts = (start + k * timedelta(minutes=10)).isoformat()
            publish("wc-a", {"id": f"a{k}", "ts": ts, "paper_pct": 60.0 - k})
            publish("wc-b", {"id": f"b{k}", "ts": ts, "paper_pct": 90.0 - k})
        wait_all()
        pass_now()
        raised = alarms()
        assert [(a.device_id, a.type) for a in raised] == [
            ("wc-a", "supplies_forecast"),
            ("wc-b", "supplies_forecast"),  # gathered: due within 16 h, same floor
        ]
        order_id = raised[0].work_order_id
        assert order_id is not None
        assert raised[1].work_order_id == order_id
        publish("wc-a", {"id": "a-low", "paper_pct": 8.0})  # the threshold alarm joins
        wait_all()
        low = [a for a in alarms() if a.type == "supplies_low"]
        assert [a.work_order_id for a in low] == [order_id]
        publish("wc-a", {"id": "a-refill", "type": "refilled", "item": "paper"}, "event")
        publish("wc-a", {"id": "a-full", "paper_pct": 100.0})
        publish("wc-b", {"id": "b-full", "paper_pct": 100.0})  # no event: a jump in level
        wait_all()
        pass_now()
        assert [a for a in alarms() if a.cleared_at is None] == []
        with sessions() as session:
            order = session.get_one(WorkOrder, order_id)
            assert order.condition_cleared_at is not None
            assert order.department == "cleaning"
    finally:
        publisher.close()
        bridge.stop()
        forget_session(host, port, bridge.client_id)
