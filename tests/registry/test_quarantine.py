"""The quarantine's bound and its one row per device when two writers hear of it at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry import quarantine
from hub.registry.models import QuarantinedDevice
from hub.registry.quarantine import Heard, hold


def test_two_writers_hearing_of_one_new_device_share_its_row(fresh_engine: Engine) -> None:
    clock = ManualClock()
    heard = Heard("zigbee2mqtt", "0xabc", "zigbee2mqtt/0xabc", b'{"water_leak":false}', clock.now())
    sessions = session_factory(fresh_engine)
    late = sessions()
    # the later writer looked before the earlier one committed: it found no row
    assert late.scalars(select(QuarantinedDevice)).all() == []
    late.rollback()
    with sessions() as early:
        hold(session=early, heard=[heard], limit=10)
        early.commit()
    row = quarantine._new_row(session=late, key=("zigbee2mqtt", "0xabc"), first=heard)
    row.count += 1
    late.commit()
    late.close()
    with sessions() as session:
        rows = session.scalars(select(QuarantinedDevice)).all()
    assert [(r.external_id, r.count) for r in rows] == [("0xabc", 2)]


def test_the_bound_counts_rows_not_messages(fresh_engine: Engine) -> None:
    clock = ManualClock()
    with session_factory(fresh_engine)() as session:
        many = [Heard("tasmota", "t1", "tele/t1/STATE", b"{}", clock.now())] * 50
        assert hold(session=session, heard=many, limit=2) == []
        refused = hold(
            session=session,
            heard=[
                Heard("tasmota", f"t{n}", f"tele/t{n}/STATE", b"{}", clock.now())
                for n in range(2, 5)
            ],
            limit=2,
        )
        assert [h.external_id for h in refused] == ["t3", "t4"]
        session.commit()
