"""The bridge's client id: one per installation and worker, the same after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bridges.identity import claim_client_id, installation_id
from bridges.mqtt import Bridge
from hub import migrate
from hub.clock import ManualClock
from hub.db import make_engine, session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from tests.bridges.conftest import Publisher, forget_session, wait_for
from tests.pipeline import register, unique_site
from tests.services import postgres_database, require_mosquitto


def test_workers_of_one_installation_get_distinct_ids_and_keep_them(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    first = claim_client_id(fresh_engine, tmp_path)
    second = claim_client_id(fresh_engine, tmp_path)
    try:
        assert first.value != second.value
        assert first.value.rsplit("-", 1)[0] == second.value.rsplit("-", 1)[0]
        assert len(first.value) <= 23  # what every MQTT 3.1.1 broker must accept
    finally:
        second.release()
    again = claim_client_id(fresh_engine, tmp_path)  # the second worker restarts
    try:
        assert again.value == second.value
    finally:
        again.release()
        first.release()


def test_the_installation_is_the_database(tmp_path: Path) -> None:
    sqlite = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert installation_id(sqlite, tmp_path / "a") == installation_id(sqlite, tmp_path / "a")
        assert installation_id(sqlite, tmp_path / "a") != installation_id(sqlite, tmp_path / "b")
    finally:
        sqlite.dispose()
    with postgres_database() as one, postgres_database() as other:
        assert installation_id(one, tmp_path / "x") == installation_id(one, tmp_path / "y")
        assert installation_id(one, tmp_path / "x") != installation_id(other, tmp_path / "x")


@pytest.mark.mosquitto
def test_two_installations_on_one_broker_keep_their_own_sessions(tmp_path: Path) -> None:
    """On one fixed default id, each hub took the other's session over, back and forth."""
    host, port = require_mosquitto()
    site = unique_site("twohubs")
    hubs = []
    for name in ("a", "b"):
        engine = make_engine(f"sqlite:///{tmp_path / name / 'hub.db'}")
        migrate.upgrade(engine)
        with session_factory(engine)() as session:
            register(session, ManualClock(), site, [("leak-1", DeviceKind.leak, "1/1")])
            session.commit()
        settings = Settings(mqtt_url=f"mqtt://{host}:{port}", data_dir=tmp_path / name)  # type: ignore[arg-type]
        hubs.append(
            (engine, Bridge(settings, session_factory(engine), topics=[f"fh/{site}/+/+/+"]))
        )
    publisher = Publisher(host, port)
    try:
        for _engine, bridge in hubs:
            bridge.start()
            assert bridge.wait_subscribed()
        for n in range(200):
            publisher.publish(f"fh/{site}/leak/leak-1/telemetry", {"id": f"m-{n}", "leak": False})
        for _engine, bridge in hubs:
            assert wait_for(lambda b=bridge: b.stats.accepted == 200, timeout=30), bridge.stats
            assert bridge.stats.connects == 1
    finally:
        publisher.close()
        for engine, bridge in hubs:
            bridge.stop()
            forget_session(host, port, bridge.client_id)
            engine.dispose()
