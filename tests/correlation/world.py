"""A small property to correlate in: devices named like the demo's, faults raised as the rule
engine raises them (the same alarm service and alarm → order flow), orders moved through
their lifecycle, complaints filed at the desk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.alarms import flows as alarm_flows
from hub.alarms.rules import RuleBook
from hub.alarms.service import clear_condition, raise_alarm
from hub.clock import ManualClock
from hub.complaints import flows as desk
from hub.complaints import intake
from hub.complaints.models import Complaint
from hub.complaints.policy import ComplaintPolicy
from hub.correlation.flows import Correlation, Policies, correlate_complaint
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Device
from hub.registry.service import add_device, ensure_location, get_or_create_site
from hub.workorders import service as orders
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy

SITE = "sunshine-garden"
RULES = RuleBook()
ZONE = ZoneInfo("Asia/Shanghai")
SLA = SlaPolicy(zone=ZONE)
POLICIES = Policies(SLA, ComplaintPolicy(zone=ZONE))
UNITS = ("3/12/1201", "2/4/401", "2/2/201", "2/6/601", "4/3/301", "5/8/801", "5/7/701")
HOLD_REASON = "等灯管到货 monthly lamp purchase is late"


def place_of(device_id: str) -> tuple[DeviceKind, str]:
    """The kind and place of a device named like the demo's."""
    if m := re.fullmatch(r"light-b(\d+)-f(\d+)", device_id):
        return DeviceKind.light, f"{int(m[1])}/{int(m[2])}"
    if m := re.fullmatch(r"leak-b(\d+)-f(\d+)", device_id):
        return DeviceKind.leak, f"{int(m[1])}/{int(m[2])}/pipe-well"
    if m := re.fullmatch(r"restroom-club-(\d)f-(men|women)", device_id):
        return DeviceKind.restroom, f"clubhouse/{m[1]}/{m[2]}-restroom"
    gates = {
        "gate-north": "north-gate",
        "gate-south": "south-gate",
        "gate-garage": "garage/entrance",
    }
    return DeviceKind.gate, gates[device_id]


@dataclass(frozen=True)
class Fault:
    """A fault a sensor reported: its alarm, whether it still holds, how far its order got.

    `state`: active, recent (cleared 30 minutes ago) or old (raised and cleared 3 days ago).
    """

    device: str
    alarm: str
    state: str = "active"
    order: str = "open"
    minutes_ago: int = 40


@dataclass(frozen=True)
class Filed:
    """A complaint filed earlier that opened its own work order."""

    content: str
    location: str | None = None
    unit: str | None = None
    minutes_ago: int = 60


@dataclass
class World:
    """The site as a situation sets it up."""

    db: Session
    clock: ManualClock
    devices: dict[str, Device] = field(default_factory=dict)

    def device(self, device_id: str) -> Device:
        """The device, registered on first use."""
        if device_id not in self.devices:
            kind, path = place_of(device_id)
            self.devices[device_id] = add_device(
                session=self.db,
                device_id=device_id,
                site_id=SITE,
                kind=kind,
                now=self.clock.now(),
                location_path=path,
            )
        return self.devices[device_id]


def world(db: Session, clock: ManualClock) -> World:
    """The site with its registered units."""
    get_or_create_site(session=db, site_id=SITE, name="阳光花园", now=clock.now())
    for unit in UNITS:
        ensure_location(session=db, site_id=SITE, path=unit)
    for path in ("3/5", "1/5", "3/8"):
        ensure_location(session=db, site_id=SITE, path=path)
    areas = [f"clubhouse/{f}/{who}-restroom" for f in (1, 2) for who in ("men", "women")]
    for path in (*areas, "north-gate", "south-gate", "garage/entrance"):
        ensure_location(session=db, site_id=SITE, path=path, leaf_kind=LocationKind.area)
    return World(db, clock)


_PATHS: dict[str, tuple[str, ...]] = {
    "open": (),
    "dispatched": ("dispatched",),
    "on_hold": ("dispatched", "on_hold"),
    "on_site": ("dispatched", "on_site"),
    "resolved": ("dispatched", "on_site", "resolved"),
    "closed": ("dispatched", "on_site", "resolved", "callback", "closed"),
}


def move_order(db: Session, order: WorkOrder, to: str, start: datetime, end: datetime) -> None:
    """Walk the order to `to`, its moves spread between `start` and `end`."""
    steps = _PATHS[to]
    for n, status in enumerate(steps):
        at = start + (end - start) * (n + 1) / (len(steps) + 1)
        orders.transition(
            session=db,
            policy=SLA,
            order=order,
            to=status,
            actor="desk-li",
            now=at,
            assignee="eng-wang" if status == "dispatched" else None,
            note=HOLD_REASON if status == "on_hold" else "done",
        )


def raise_fault(w: World, fault: Fault) -> WorkOrder | None:
    """Raise the fault's alarm and give it its order, as the rule engine does."""
    device = w.device(fault.device)
    now = w.clock.now()
    began = now - (
        timedelta(days=3) if fault.state == "old" else timedelta(minutes=fault.minutes_ago)
    )
    rule = RULES.rule(SITE, device.kind, fault.alarm)
    assert rule is not None, fault
    raised = raise_alarm(session=w.db, device=device, rule=rule, at=began, detail={})
    order = alarm_flows.on_raised(
        session=w.db, policy=SLA, raised=raised, rule=rule, device=device, now=began
    )
    ended = {
        "active": None,
        "recent": now - timedelta(minutes=30),
        "old": began + timedelta(hours=1),
    }
    cleared_at = ended[fault.state]
    if order is not None and fault.order != "open" and order.status == "open":
        move_order(w.db, order, fault.order, began, cleared_at or now)
    if cleared_at is not None:
        alarm = clear_condition(
            session=w.db, device_id=device.id, rule=rule, at=cleared_at, at_once=True
        )
        if alarm is not None:
            alarm_flows.on_cleared(session=w.db, alarm=alarm, now=cleared_at)
    w.db.flush()
    return order


def file(
    w: World,
    content: str,
    *,
    location: str | None = None,
    unit: str | None = None,
    minutes_ago: int = 0,
) -> Complaint:
    """Register a complaint at the desk (without correlating it)."""
    entry = intake.Intake(
        site_id=SITE,
        content=content,
        location=location,
        unit=unit,
        received_at=w.clock.now() - timedelta(minutes=minutes_ago),
    )
    return intake.register(
        session=w.db,
        policy=POLICIES.complaints,
        intake=entry,
        actor="desk-li",
        actor_id=None,
        now=w.clock.now(),
    )


def file_with_order(w: World, filed: Filed) -> WorkOrder:
    """An earlier complaint that opened its own order."""
    complaint = file(
        w, filed.content, location=filed.location, unit=filed.unit, minutes_ago=filed.minutes_ago
    )
    correlate_complaint(session=w.db, complaint=complaint, policies=POLICIES, now=w.clock.now())
    return desk.work_order_for(
        session=w.db, policy=SLA, complaint=complaint, actor="desk-li", now=w.clock.now()
    ).order


def correlate(w: World, complaint: Complaint) -> Correlation:
    """Correlate the complaint now, as intake does."""
    return correlate_complaint(
        session=w.db, complaint=complaint, policies=POLICIES, now=w.clock.now()
    )
