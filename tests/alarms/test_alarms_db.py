"""One uncleared alarm per device and type, enforced by the database, also under races."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from devices import SPECS
from hub.alarms.models import Alarm
from hub.alarms.service import raise_alarm
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from tests.pipeline import register, unique_site


def _alarm(device: Device, clock: ManualClock, *, cleared: bool) -> Alarm:
    return Alarm(
        site_id=device.site_id,
        device_id=device.id,
        type="leak",
        severity="critical",
        title="leak",
        raised_at=clock.now(),
        last_seen_at=clock.now(),
        count=1,
        detail={},
        reopen_count=0,
        flapping=False,
        flap_window_start=clock.now(),
        flap_changes=1,
        cleared_at=clock.now() if cleared else None,
    )


@pytest.mark.usefixtures("sites")
def test_the_partial_index_refuses_a_second_uncleared_alarm(
    db: Session, clock: ManualClock
) -> None:
    site = unique_site()
    leak = register(db, clock, site, [("leak-x", DeviceKind.leak, None)])["leak-x"]
    db.add_all([_alarm(leak, clock, cleared=True), _alarm(leak, clock, cleared=True)])
    db.add(_alarm(leak, clock, cleared=False))
    db.flush()  # cleared ones may repeat
    db.add(_alarm(leak, clock, cleared=False))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_racing_writers_end_with_one_alarm_counted_twice(fresh_engine: Engine) -> None:
    clock = ManualClock()
    sessions = session_factory(fresh_engine)
    site = unique_site()
    with sessions() as session:
        register(session, clock, site, [("leak-race", DeviceKind.leak, None)])
        session.commit()
    rule = SPECS["leak"].rule("leak_detected")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            with sessions() as session:
                device = session.get_one(Device, "leak-race")
                raise_alarm(session=session, device=device, rule=rule, at=clock.now(), detail={})
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with sessions() as session:
        alarms = session.scalars(select(Alarm).where(Alarm.device_id == "leak-race")).all()
        assert len(alarms) == 1
        assert alarms[0].count == 2
        assert session.scalar(select(func.count()).select_from(Alarm)) == 1
