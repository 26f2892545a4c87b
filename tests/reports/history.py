"""A built history for the reports: one week in Asia/Shanghai and its edges.

The week is Monday 2026-11-23 00:00 +08:00 to Monday 2026-11-30 00:00 +08:00, that is
2026-11-22 16:00 UTC to 2026-11-29 16:00 UTC. Cases sit just inside and just outside both
ends (a UTC date that is the day before the local one), one order's hold runs across the
week's last midnight, another is reopened after a failed callback, and some steps breach.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.complaints import intake
from hub.complaints.enums import CallbackOutcome
from hub.complaints.enums import Status as CS
from hub.complaints.models import Complaint, ComplaintWorkOrder
from hub.registry.enums import DeviceKind
from hub.registry.service import ensure_location
from hub.workorders import service as orders
from hub.workorders.enums import Department, Priority, Source
from hub.workorders.enums import Status as S
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.complaints.helpers import POLICY as DESK
from tests.complaints.helpers import bring_to, move
from tests.conftest import SITE
from tests.pipeline import register

ZONE = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2026, 11, 23, tzinfo=ZONE).astimezone(UTC)
UNTIL = datetime(2026, 11, 30, tzinfo=ZONE).astimezone(UTC)
POLICY = SlaPolicy()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time as the UTC instant it is."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _order(
    db: Session,
    clock: ManualClock,
    at: datetime,
    *,
    department: Department = Department.engineering,
    priority: Priority = Priority.urgent,
    source: Source = Source.manual,
    device_id: str | None = None,
    title: str = "3号楼12层走廊灯不亮",
) -> WorkOrder:
    clock.set(at)
    return orders.open_order(
        session=db,
        policy=POLICY,
        now=at,
        site_id=SITE,
        title=title,
        source=source,
        department=department,
        priority=priority,
        actor="desk-li",
        device_id=device_id,
    )


def _move(
    db: Session, clock: ManualClock, order: WorkOrder, to: S, at: datetime, note: str = ""
) -> None:
    clock.set(at)
    orders.transition(
        session=db,
        policy=POLICY,
        order=order,
        to=to,
        actor="tester",
        now=at,
        note=note or f"moving to {to}",
        assignee="eng-wang" if to == S.dispatched else None,
    )


def sla_history(db: Session, clock: ManualClock) -> dict[str, WorkOrder]:
    """Three engineering/urgent orders (dispatch 1 min, on site 5, resolve 240).

    A: Sunday 23:50 local, dispatched in 30 s, on site in 4 min, on hold 60 min across
       midnight (into the next week), resolved 2 h 05 after registration: 65 min held out.
    B: Monday 00:10 local, dispatched after 3 min and on site after 10 (both breached),
       resolved in 30, called back after 10 min, reopened (cycle 1): on site in 5, resolved
       in 35, its new callback pending.
    C: Sunday 23:55 local the week before: outside the window.
    """
    a = _order(db, clock, local(2026, 11, 29, 23, 50))
    start = a.created_at
    _move(db, clock, a, S.dispatched, start + timedelta(seconds=30))
    _move(db, clock, a, S.on_site, start + timedelta(minutes=4))
    _move(db, clock, a, S.on_hold, start + timedelta(minutes=5), "等灯管到货 waiting for lamps")
    _move(db, clock, a, S.on_site, start + timedelta(minutes=65))
    _move(db, clock, a, S.resolved, start + timedelta(minutes=125))

    b = _order(db, clock, local(2026, 11, 23, 0, 10))
    start = b.created_at
    _move(db, clock, b, S.dispatched, start + timedelta(minutes=3))
    _move(db, clock, b, S.on_site, start + timedelta(minutes=10))
    _move(db, clock, b, S.resolved, start + timedelta(minutes=30))
    _move(db, clock, b, S.callback, start + timedelta(minutes=40))
    _move(db, clock, b, S.dispatched, start + timedelta(minutes=45), "业主说还是不亮 still dark")
    _move(db, clock, b, S.on_site, start + timedelta(minutes=50))
    _move(db, clock, b, S.resolved, start + timedelta(minutes=80))

    c = _order(db, clock, local(2026, 11, 22, 23, 55))
    _move(db, clock, c, S.dispatched, c.created_at + timedelta(seconds=20))
    db.flush()
    return {"a": a, "b": b, "c": c}


def _complaint(
    db: Session,
    clock: ManualClock,
    at: datetime,
    *,
    category: str = "facility",
    kinds: tuple[str, ...] = ("light",),
    path: str | None = "3/12",
    content: str = "3号楼12层走廊灯坏了",
) -> Complaint:
    clock.set(at)
    complaint = intake.register(
        session=db,
        policy=DESK,
        intake=intake.Intake(site_id=SITE, content=content),
        actor="desk-li",
        actor_id=None,
        now=at,
    )
    complaint.category = category
    complaint.device_kinds = list(kinds)
    complaint.responsibility, complaint.party = "property", None
    complaint.location_id = (
        ensure_location(session=db, site_id=SITE, path=path).id if path is not None else None
    )
    complaint.unit_id = None
    db.flush()
    return complaint


def hot_history(db: Session, clock: ManualClock) -> dict[str, Complaint]:
    """Four complaints in the week, one the week before, one just after.

    Three about the corridor lights of 3/12 (Monday 00:05 local, which is Sunday in UTC;
    Wednesday; Sunday 23:59 local), one about the clubhouse restroom; the week before, one
    about the lights at Sunday 23:55 local; the next week's first minute, one more.
    """
    return {
        "monday": _complaint(db, clock, local(2026, 11, 23, 0, 5)),
        "wednesday": _complaint(db, clock, local(2026, 11, 25, 14, 0)),
        "sunday": _complaint(db, clock, local(2026, 11, 29, 23, 59)),
        "restroom": _complaint(
            db,
            clock,
            local(2026, 11, 26, 10, 20),
            category="sanitation",
            kinds=("restroom",),
            path="clubhouse/2/men-restroom",
            content="会所二楼男厕没有纸",
        ),
        "before": _complaint(db, clock, local(2026, 11, 22, 23, 55)),
        "after": _complaint(db, clock, local(2026, 11, 30, 0, 0)),
    }


def callback_history(db: Session, clock: ManualClock) -> dict[str, Complaint]:
    """Three complaints resolved in the week: called back in 30 min, after 3 h, and never."""
    made = {}
    for name, at in (
        ("on_time", local(2026, 11, 24, 9, 0)),
        ("late", local(2026, 11, 24, 10, 0)),
        ("never", local(2026, 11, 24, 11, 0)),
    ):
        complaint = _complaint(db, clock, at)
        bring_to(db, clock, complaint, CS.resolved)
        if name == "on_time":
            clock.advance(minutes=30)
            move(db, clock, complaint, CS.callback, outcome=CallbackOutcome.satisfied)
        elif name == "late":
            clock.advance(hours=3)
            move(db, clock, complaint, CS.callback, outcome=CallbackOutcome.satisfied)
        made[name] = complaint
    db.flush()
    return made


def proactive_history(db: Session, clock: ManualClock) -> dict[str, WorkOrder]:
    """A sensor order 31 min before its complaint; a complaint 12 min before the sensor's."""
    lamp = register(db, clock, SITE, [("lamp-3-12", DeviceKind.light, "3/12")])["lamp-3-12"]
    sensed = _order(db, clock, local(2026, 11, 24, 18, 0), source=Source.sensor, device_id=lamp.id)
    first = _complaint(db, clock, local(2026, 11, 24, 18, 31))
    told = _complaint(db, clock, local(2026, 11, 25, 20, 0), content="4-2-301 水管爆裂")
    opened = _order(
        db, clock, local(2026, 11, 25, 20, 12), source=Source.sensor, title="4-2-301 水管爆裂"
    )
    for complaint, order in ((first, sensed), (told, opened)):
        db.add(
            ComplaintWorkOrder(
                complaint_id=complaint.id, work_order_id=order.id, at=clock.now(), actor="t"
            )
        )
    db.flush()
    return {"sensed": sensed, "opened": opened}


def unfinished_history(db: Session, clock: ManualClock) -> dict[str, WorkOrder | Complaint]:
    """What is open on Monday 30th 00:00 local.

    A corridor-light order on hold waiting for lamps since Friday; a cleaning order opened
    Sunday evening and never dispatched (overdue); a closed order and a cancelled one; an
    open complaint about the lights and an archived inquiry.
    """
    lamp = register(db, clock, SITE, [("lamp-5-3", DeviceKind.light, "5/3")])["lamp-5-3"]
    light = _order(
        db, clock, local(2026, 11, 27, 9, 0), device_id=lamp.id, priority=Priority.normal
    )
    _move(db, clock, light, S.dispatched, local(2026, 11, 27, 9, 5))
    _move(db, clock, light, S.on_hold, local(2026, 11, 27, 10, 0), "等灯管采购 lamps on order")
    paper = _order(
        db,
        clock,
        local(2026, 11, 29, 20, 0),
        department=Department.cleaning,
        priority=Priority.high,
        title="会所二楼男厕缺纸",
    )
    done = _order(db, clock, local(2026, 11, 28, 9, 0))
    for to, minutes in ((S.dispatched, 1), (S.on_site, 4), (S.resolved, 30)):
        _move(db, clock, done, to, done.created_at + timedelta(minutes=minutes))
    _move(db, clock, done, S.callback, done.created_at + timedelta(minutes=40))
    _move(db, clock, done, S.closed, done.created_at + timedelta(minutes=41))
    dropped = _order(db, clock, local(2026, 11, 28, 10, 0))
    _move(db, clock, dropped, S.cancelled, local(2026, 11, 28, 10, 1), "duplicate")
    dark = _complaint(db, clock, local(2026, 11, 28, 21, 0), path="5/3")
    clock.set(UNTIL)
    return {"light": light, "paper": paper, "done": done, "dropped": dropped, "dark": dark}
