"""zigbee2mqtt and Tasmota traffic through a running bridge, on the embedded broker and Mosquitto.

Real publishes, the bridge's own subscription to the adapters' roots, real databases: a
zigbee water sensor's leak becomes the leak alarm and its work order, an unknown sensor
is held and, once registered, ingested, hostile payloads become dead letters with their
reasons while the rest of the traffic goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bridges.broker import EmbeddedBroker
from bridges.mqtt import Bridge, new_client_id
from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry import quarantine
from hub.registry.enums import Adapter, DeviceKind
from hub.registry.models import QuarantinedDevice
from hub.registry.service import add_device, get_or_create_site
from hub.settings import Settings
from hub.signals.models import DeadLetter, DeviceState, Signal
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, wait_for
from tests.pipeline import unique_site
from tests.services import require_mosquitto


@pytest.fixture(params=["amqtt", pytest.param("mosquitto", marks=pytest.mark.mosquitto)])
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, str]]:
    """(host, port, MQTT protocol) of the embedded broker or the machine's Mosquitto."""
    if request.param == "amqtt":
        embedded: EmbeddedBroker = request.getfixturevalue("amqtt_broker")
        yield embedded.host, embedded.port, "3.1.1"
    else:
        host, port = require_mosquitto()
        yield host, port, "5"


class Hub:
    """A site with a zigbee leak sensor and a Tasmota corridor light, and its bridge."""

    def __init__(self, engine: Engine, host: str, port: int, protocol: str) -> None:
        self.engine = engine
        self.site = unique_site("adapt")
        tag = uuid.uuid4().hex[:8]
        self.base = f"z2m-{tag}"  # brokers are shared: each run has its own roots
        self.tasmota = f"corridor-{tag}"
        clock = ManualClock()
        with session_factory(engine)() as session:
            get_or_create_site(session=session, site_id=self.site, name="s", now=clock.now())
            add_device(
                session=session,
                device_id="leak-b4-f03",
                site_id=self.site,
                kind=DeviceKind.leak,
                now=clock.now(),
                location_path="4/3/pipe-well",
                adapter=Adapter.zigbee2mqtt,
                external_id="pipe well 4-3",
            )
            add_device(
                session=session,
                device_id="light-b3-f12",
                site_id=self.site,
                kind=DeviceKind.light,
                now=clock.now(),
                location_path="3/12",
                adapter=Adapter.tasmota,
                external_id=self.tasmota,
            )
            session.commit()
        settings = Settings(
            mqtt_url=f"mqtt://{host}:{port}",  # type: ignore[arg-type]
            mqtt_protocol=protocol,  # type: ignore[arg-type]
            adapters="zigbee2mqtt,tasmota",
            zigbee2mqtt_base_topic=self.base,
        )
        self.bridge = Bridge(
            settings,
            session_factory(engine),
            client_id=new_client_id("bridge"),
            topics=[f"fh/{self.site}/+/+/+"],
        )
        self.publisher = Publisher(host, port)

    def count(self, model: type[object], *where: object) -> int:
        with session_factory(self.engine)() as session:
            query = select(func.count()).select_from(model)
            for clause in where:
                query = query.where(clause)  # type: ignore[arg-type]
            return session.scalar(query) or 0

    def close(self) -> None:
        self.publisher.close()
        self.bridge.stop()


@pytest.fixture
def hub(broker: tuple[str, int, str], fresh_engine: Engine) -> Iterator[Hub]:
    running = Hub(fresh_engine, *broker)
    running.bridge.start()
    try:
        assert running.bridge.wait_subscribed()
        yield running
    finally:
        running.close()


def test_a_zigbee_water_leak_opens_a_work_order(hub: Hub) -> None:
    assert f"{hub.base}/#" in hub.bridge.topics
    hub.publisher.publish(f"{hub.base}/pipe well 4-3/availability", {"state": "online"})
    hub.publisher.publish(f"{hub.base}/bridge/state", {"state": "online"})
    hub.publisher.publish(
        f"{hub.base}/pipe well 4-3", {"water_leak": True, "battery": 80, "linkquality": 47}
    )
    assert wait_for(lambda: hub.count(WorkOrder, WorkOrder.site_id == hub.site) == 1)
    assert wait_for(hub.bridge.idle)
    assert hub.count(Alarm, Alarm.device_id == "leak-b4-f03", Alarm.type == "leak_detected") == 1
    assert hub.count(Signal, Signal.device_id == "leak-b4-f03") == 2
    assert hub.bridge.stats.ignored == 1


def test_a_tasmota_light_reports_relay_and_power(hub: Hub) -> None:
    hub.publisher.publish(f"tele/{hub.tasmota}/LWT", b"Online")
    hub.publisher.publish(f"stat/{hub.tasmota}/POWER", b"ON")
    hub.publisher.publish(f"tele/{hub.tasmota}/SENSOR", {"ENERGY": {"Power": 0.3}})
    assert wait_for(lambda: hub.count(Signal, Signal.device_id == "light-b3-f12") == 3)
    with session_factory(hub.engine)() as session:
        state = session.get(DeviceState, "light-b3-f12")
        assert state is not None
        assert (state.state["on"], state.state["power_w"]) == (True, 0.3)


def test_an_unknown_sensor_is_held_then_registered_then_ingested(hub: Hub) -> None:
    name = f"0x{uuid.uuid4().hex[:16]}"
    hub.publisher.publish(f"{hub.base}/{name}", {"water_leak": False, "battery": 99})
    hub.publisher.publish(f"{hub.base}/{name}", {"water_leak": False, "battery": 98})
    held = QuarantinedDevice.external_id == name
    assert wait_for(lambda: hub.count(QuarantinedDevice, held, QuarantinedDevice.count == 2))
    with session_factory(hub.engine)() as session:
        row = session.scalars(select(QuarantinedDevice).where(held)).one()
        quarantine.approve(
            session=session,
            quarantine_id=row.id,
            registration=quarantine.Registration(
                device_id="leak-new", site_id=hub.site, kind=DeviceKind.leak, location="1/1"
            ),
            site_ids=frozenset({hub.site}),
            now=ManualClock().now(),
        )
        session.commit()
    hub.publisher.publish(f"{hub.base}/{name}", {"water_leak": True, "battery": 97})
    assert wait_for(lambda: hub.count(Alarm, Alarm.device_id == "leak-new") == 1)
    assert hub.count(QuarantinedDevice, held) == 0
    assert hub.bridge.stats.quarantined == 2


@pytest.mark.parametrize(
    ("suffix", "payload", "reason"),
    [
        ("", b"{broken", "bad_json"),
        ("", b'{"water_leak": NaN}', "bad_json"),
        ("", b'{"water_leak": "\\u0000"}', "nul_character"),
        (
            "",
            b'{"water_leak": true, "battery": 123456789012345678901234567890}',
            "number_out_of_range",
        ),
        ("", b"\xff\xfe", "bad_encoding"),
        ("", b'{"water_leak": "wet"}', "invalid_payload"),
        ("/availability", b"maybe", "bad_status"),
    ],
)
def test_hostile_zigbee_payloads_are_dead_letters_and_the_stream_goes_on(
    hub: Hub, suffix: str, payload: bytes, reason: str
) -> None:
    topic = f"{hub.base}/pipe well 4-3{suffix}"
    hub.publisher.publish(topic, payload)
    hub.publisher.publish(f"{hub.base}/pipe well 4-3", {"water_leak": False})
    assert wait_for(lambda: hub.count(Signal, Signal.device_id == "leak-b4-f03") == 1)
    assert wait_for(hub.bridge.idle)
    assert hub.count(DeadLetter, DeadLetter.topic == topic, DeadLetter.reason == reason) == 1
    assert hub.bridge.stats.reasons == {reason: 1}
