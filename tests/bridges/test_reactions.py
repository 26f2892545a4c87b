"""The desk's reactions run as an after-commit sink: a leak's notice is up within the second."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bridges.broker import EmbeddedBroker
from bridges.mqtt import Bridge, new_client_id
from bridges.reactions import desk_reactions
from hub.clock import SystemClock
from hub.correlation.flows import Policies
from hub.db import session_factory
from hub.notices.models import Notice
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, wait_for
from tests.pipeline import register, unique_site


def test_a_committed_leak_order_gets_its_notice_from_the_sink(
    amqtt_broker: EmbeddedBroker, fresh_engine: Engine
) -> None:
    site = unique_site("react")
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        register(session, SystemClock(), site, [("leak-b2-f05", DeviceKind.leak, "2/5/pipe-well")])
        session.commit()
    settings = Settings(  # type: ignore[call-arg]
        mqtt_url=f"mqtt://{amqtt_broker.host}:{amqtt_broker.port}",  # type: ignore[arg-type]
        mqtt_protocol="3.1.1",
    )
    bridge = Bridge(
        settings, sessions, client_id=new_client_id("react"), topics=[f"fh/{site}/+/+/+"]
    )
    stats = bridge.add_sink("desk", desk_reactions(sessions, Policies(), SystemClock()))
    bridge.start()
    publisher = Publisher(amqtt_broker.host, amqtt_broker.port)
    try:
        assert bridge.wait_subscribed()
        publisher.publish(f"fh/{site}/leak/leak-b2-f05/telemetry", {"leak": True})

        def notice_up() -> bool:
            with sessions() as session:
                return session.scalar(select(Notice.id).where(Notice.site_id == site)) is not None

        # No scheduler runs here: only the sink can have put the notice up.
        assert wait_for(notice_up, timeout=15)
        with sessions() as session:
            notice = session.scalars(select(Notice).where(Notice.site_id == site)).one()
            order = session.scalars(select(WorkOrder).where(WorkOrder.site_id == site)).one()
            assert notice.work_order_id == order.id
        assert stats.failed == 0
    finally:
        publisher.close()
        bridge.stop()
