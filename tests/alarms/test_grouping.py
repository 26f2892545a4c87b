"""One work order per group, also when batches of different workers raise its alarms at once.

Each batch holds its own devices' locks, so two batches with different devices of one group
run side by side: both looked for the group's order, found none, and opened one each.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bridges.mqtt import Bridge, new_client_id
from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.service import Incoming
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, forget_session, wait_for
from tests.pipeline import ingest, message, register, unique_site
from tests.services import require_mosquitto


def _low(site: str, device: str, clock: ManualClock) -> Incoming:
    body = {"ts": clock.now().isoformat(), "leak": False, "battery": 5}
    return message(site, "leak", device, body, at=clock.now())


def test_batches_at_once_open_one_order_for_a_group(fresh_engine: Engine) -> None:
    clock = ManualClock()
    site = unique_site("group")
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        register(session, clock, site, [(f"leak-{n}", DeviceKind.leak, "1/1") for n in (1, 2)])
        session.commit()
    clock.advance(seconds=10)
    first = sessions()
    ingest(first, clock, _low(site, "leak-1", clock))  # raises battery_low, opens the order
    done = threading.Event()

    def second_batch() -> None:
        with sessions() as second:
            ingest(second, clock, _low(site, "leak-2", clock))
            second.commit()
        done.set()

    worker = threading.Thread(target=second_batch)
    worker.start()
    try:
        done.wait(1.5)  # it waits for the first batch to commit, or (the bug) opens its own
        first.commit()
    finally:
        worker.join(30)
        first.close()
    with sessions() as session:
        orders = session.scalars(select(WorkOrder).where(WorkOrder.site_id == site)).all()
        alarms = session.scalars(select(Alarm).where(Alarm.site_id == site)).all()
        assert [a.type for a in alarms] == ["battery_low", "battery_low"]
        assert len(orders) == 1, [o.title for o in orders]
        assert {a.work_order_id for a in alarms} == {orders[0].id}


def test_a_group_order_is_found_again_after_it_was_committed(fresh_engine: Engine) -> None:
    clock = ManualClock()
    site = unique_site("again")
    sessions = session_factory(fresh_engine)
    with sessions() as session:
        register(session, clock, site, [(f"leak-{n}", DeviceKind.leak, "2/1") for n in range(4)])
        session.commit()
    for n in range(4):
        clock.advance(timedelta(seconds=5))
        with sessions() as session:
            ingest(session, clock, _low(site, f"leak-{n}", clock))
            session.commit()
    with sessions() as session:
        count = select(func.count()).select_from(WorkOrder).where(WorkOrder.site_id == site)
        assert session.scalar(count) == 1


@pytest.mark.mosquitto
def test_two_workers_on_a_shared_subscription_open_one_order_per_group(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    host, port = require_mosquitto()
    clock = ManualClock()
    site = unique_site("share")
    leaks = [(f"leak-{n:02d}", DeviceKind.leak, f"{1 + n % 3}/1") for n in range(12)]
    restrooms = [(f"wc-{n:02d}", DeviceKind.restroom, f"5/{1 + n % 2}/wc-{n}") for n in range(8)]
    with session_factory(fresh_engine)() as session:
        register(session, clock, site, leaks + restrooms)
        session.commit()
    group = f"g{new_client_id('')[1:]}"
    workers = []
    for _ in range(2):
        settings = Settings(  # type: ignore[call-arg]
            mqtt_url=f"mqtt://{host}:{port}",  # type: ignore[arg-type]
            mqtt_share_group=group,
            bridge_batch_size=4,
            data_dir=tmp_path,
        )
        workers.append(Bridge(settings, session_factory(fresh_engine), topics=[f"fh/{site}/+/+/+"]))
    publisher = Publisher(host, port)
    try:
        for worker in workers:
            worker.start()
        assert all(w.wait_subscribed() for w in workers)
        for rounds in range(3):
            for device, _kind, _path in leaks:
                body = {"id": f"{device}-{rounds}", "leak": False, "battery": 50 - 20 * rounds}
                publisher.publish(f"fh/{site}/leak/{device}/telemetry", body)
            for device, _kind, _path in restrooms:
                body = {"id": f"{device}-{rounds}", "paper_pct": 60 - 25 * rounds}
                publisher.publish(f"fh/{site}/restroom/{device}/telemetry", body)
        total = 3 * (len(leaks) + len(restrooms))
        assert wait_for(lambda: sum(w.stats.committed for w in workers) == total, timeout=60)
    finally:
        publisher.close()
        for worker in workers:
            worker.stop()
            forget_session(host, port, worker.client_id)
    with session_factory(fresh_engine)() as session:
        rows = session.execute(
            select(Alarm.type, func.count(Alarm.id), func.count(func.distinct(Alarm.work_order_id)))
            .where(Alarm.site_id == site)
            .group_by(Alarm.type)
        ).all()
        orders = session.scalar(
            select(func.count()).select_from(WorkOrder).where(WorkOrder.site_id == site)
        )
    # battery and paper low in the third round: one order for the site, one for each floor
    assert sorted(rows) == [("battery_low", 12, 1), ("supplies_low", 8, 2)]
    assert orders == 3
