"""The forecast pass on both databases: alarm → order → join → clear, and what raises nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.rules import RuleBook
from hub.clock import ManualClock
from hub.forecasts.flows import forecast_pass
from hub.forecasts.models import Forecast
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.pipeline import alarms_of, register, send, sensor_orders, unique_site

RULES = RuleBook.from_dict(
    {"defaults": {"restroom": {"supplies_forecast": {"lead_min": 90, "gather_h": 0}}}}
)
"""A lead of two hours (the cleaning SLA's 30 minutes plus 90), no gathering."""
POLICY = SlaPolicy()
STEP = timedelta(minutes=10)


def _run(db: Session, clock: ManualClock, rules: RuleBook = RULES) -> None:
    forecast_pass(session=db, rules=rules, policy=POLICY, now=clock.now())


def _levels(
    db: Session, clock: ManualClock, device: Device, levels: list[float], **extra: float
) -> None:
    for level in levels:
        clock.advance(STEP)
        send(db, clock, device, {"paper_pct": level, "soap_pct": 90.0, **extra})


def _restrooms(db: Session, clock: ManualClock, count: int = 2) -> tuple[str, list[Device]]:
    site = unique_site("fc")
    devices = register(
        db, clock, site, [(f"wc-{n}", DeviceKind.restroom, "1/2/wc") for n in range(count)]
    )
    return site, [devices[f"wc-{n}"] for n in range(count)]


def test_a_falling_dispenser_opens_one_cleaning_order_before_it_is_empty(
    db: Session, clock: ManualClock
) -> None:
    site, (wc0, wc1) = _restrooms(db, clock)
    # 6 %/h; the lead is the cleaning SLA's 30 minutes plus 90: two hours before empty.
    _levels(db, clock, wc0, [90 - k for k in range(30)])
    _run(db, clock)
    assert alarms_of(db, wc0.id) == []
    row = db.scalar(
        select(Forecast).where(Forecast.device_id == wc0.id, Forecast.quantity == "paper_pct")
    )
    assert row is not None
    assert row.outlook == "falling"
    assert row.runs_out_at is not None
    hours_left = (row.runs_out_at - clock.now()).total_seconds() / 3600
    assert abs(hours_left - 61 / 6) < 0.3
    level = 61.0
    while not alarms_of(db, wc0.id):  # the pass runs every few minutes
        level -= 1
        _levels(db, clock, wc0, [level])
        _run(db, clock)
    assert 11 <= level <= 13  # about two hours before empty, before the low threshold (10 %)
    [alarm] = alarms_of(db, wc0.id)
    assert alarm.type == "supplies_forecast"
    assert alarm.work_order_id is not None
    [order] = sensor_orders(db, site)
    assert order.department == "cleaning"
    # A second restroom of the same floor due too: the same order (grouped by floor).
    _levels(db, clock, wc1, [30 - k for k in range(20)])
    _run(db, clock)
    [alarm1] = [a for a in alarms_of(db, wc1.id) if a.type == "supplies_forecast"]
    assert alarm1.work_order_id == order.id
    # The later threshold alarm of the same dispenser joins the order.
    _levels(db, clock, wc0, [4.0])
    low = [a for a in alarms_of(db, wc0.id) if a.type == "supplies_low"]
    assert low
    assert low[0].work_order_id == order.id
    assert len(sensor_orders(db, site)) == 1
    # Refilled: the forecast alarm and the low alarm clear; the order notes it.
    clock.advance(STEP)
    send(db, clock, wc0, {"type": "refilled", "item": "paper"}, channel="event")
    _levels(db, clock, wc0, [100.0])
    _levels(db, clock, wc1, [100.0])  # refilled without an event: a jump in level
    _run(db, clock)
    assert alarms_of(db, wc0.id) == []
    assert alarms_of(db, wc1.id) == []
    db.refresh(order)
    assert order.condition_cleared_at is not None


def test_flat_noisy_stuck_and_silent_dispensers_open_nothing(
    db: Session, clock: ManualClock
) -> None:
    site, (flat, stuck, silent) = _restrooms(db, clock, 3)
    for k in range(30):
        clock.advance(STEP)
        send(db, clock, flat, {"paper_pct": 3.0 + (k % 2) * 0.2})
        send(db, clock, stuck, {"paper_pct": 9.0 if k > 5 else 12.0 - k * 0.5, "visits": k * 4})
        if k < 10:
            send(db, clock, silent, {"paper_pct": 30.0 - 2.5 * k})
    _run(db, clock)
    outlooks = {
        r.device_id: r.outlook
        for r in db.scalars(
            select(Forecast).where(Forecast.site_id == site, Forecast.quantity == "paper_pct")
        )
    }
    assert outlooks == {flat.id: "flat", stuck.id: "stuck", silent.id: "silent"}
    assert not [
        a
        for d in (flat, stuck, silent)
        for a in alarms_of(db, d.id)
        if a.type == "supplies_forecast"
    ]


def test_batteries_running_down_gather_in_one_order_per_building(
    db: Session, clock: ManualClock
) -> None:
    site = unique_site("bat")
    devices = register(
        db,
        clock,
        site,
        [
            ("leak-a", DeviceKind.leak, "1/1"),
            ("leak-b", DeviceKind.leak, "1/5"),
            ("leak-c", DeviceKind.leak, "1/9"),
            ("leak-d", DeviceKind.leak, "2/1"),
        ],
    )
    # Per hour: a 0.1 (10 days to 15 %), b 0.05 (~21 days), c 0.01 (~100 days), d 0.1 in building 2.
    drains = {"leak-a": 0.1, "leak-b": 0.05, "leak-c": 0.01, "leak-d": 0.1}
    for k in range(24):
        clock.advance(timedelta(hours=1))
        for device_id, drain in drains.items():
            send(
                db, clock, devices[device_id], {"leak": False, "battery": round(40 - drain * k, 2)}
            )
    _run(db, clock)
    raised = {d: [a for a in alarms_of(db, d) if a.type == "battery_forecast"] for d in drains}
    assert raised["leak-a"]
    assert raised["leak-b"]
    assert raised["leak-d"]
    assert not raised["leak-c"]
    assert raised["leak-a"][0].work_order_id == raised["leak-b"][0].work_order_id
    assert raised["leak-a"][0].work_order_id != raised["leak-d"][0].work_order_id
    orders = db.scalars(select(WorkOrder).where(WorkOrder.site_id == site)).all()
    assert len(orders) == 2
    assert {o.department for o in orders} == {"engineering"}
    # A new battery clears the alarm.
    clock.advance(timedelta(hours=1))
    send(db, clock, devices["leak-a"], {"leak": False, "battery": 100.0})
    _run(db, clock)
    assert not [a for a in alarms_of(db, "leak-a") if a.type == "battery_forecast"]


def test_a_floor_due_gathers_its_dispensers_due_soon_into_one_visit(
    db: Session, clock: ManualClock
) -> None:
    site = unique_site("gather")
    devices = register(
        db,
        clock,
        site,
        [
            ("wc-a", DeviceKind.restroom, "1/2/wc-a"),
            ("wc-b", DeviceKind.restroom, "1/2/wc-b"),
            ("wc-c", DeviceKind.restroom, "1/3/wc"),
        ],
    )
    # At 6 %/h: a has 1 h left, b 10 h (within the 16 h gathered), c on the next floor 10 h.
    for k in range(30):
        clock.advance(STEP)
        send(db, clock, devices["wc-a"], {"paper_pct": 36.0 - k})
        send(db, clock, devices["wc-b"], {"paper_pct": 90.0 - k})
        send(db, clock, devices["wc-c"], {"paper_pct": 90.0 - k})
    _run(db, clock, RuleBook())  # the defaults: 8 h lead, 16 h gathered
    raised = {d: {a.work_order_id for a in alarms_of(db, d)} for d in devices}
    assert len(raised["wc-a"]) == 1
    assert raised["wc-b"] == raised["wc-a"]
    assert raised["wc-c"] == set()
    assert len(sensor_orders(db, site)) == 1
