"""Gathering candidates: what around a complaint's place might explain it.

Everything is found through indexes from the place outwards: the location nodes on the
complaint's path and below it (and, for leaks, the floors above), their devices, those
devices' alarms, the orders at those places or of those alarms, earlier complaints there,
the latest reading of a few devices, and the notices up at the site. A complaint without a
place (or, for a gate or restroom, only the complainant's home) searches the whole site,
for its device kinds only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from devices import SPECS
from hub.alarms.models import Alarm
from hub.complaints.models import Complaint, ComplaintWorkOrder
from hub.complaints.workflow import TERMINAL as COMPLAINT_TERMINAL
from hub.correlation import weights as w
from hub.correlation.enums import LinkType
from hub.correlation.places import Codes, ancestors, codes, floors_above, subtree_bounds
from hub.correlation.problems import said
from hub.correlation.scoring import AWAY_FROM_HOME, Candidate, Where
from hub.notices.models import Notice
from hub.registry.enums import DeviceKind
from hub.registry.models import Device, Location
from hub.signals.models import Signal
from hub.workorders.enums import Status
from hub.workorders.models import WorkOrder

HANDLING = frozenset({Status.open, Status.dispatched, Status.on_site, Status.on_hold})
"""Order states in which someone is still on it: such an order can be a known issue."""
_HANDLING = sorted(HANDLING)
MAX_ROWS = 200


def where_of(complaint: Complaint) -> Where:
    """The complaint as correlation sees it."""
    text = f"{complaint.content} {complaint.request}".strip()
    words = said(text)
    unit_only = (
        complaint.location_id is not None
        and complaint.location_id == complaint.unit_id
        and complaint.location_hint is None
    )
    return Where(
        site_id=complaint.site_id,
        path=codes(complaint.location.path) if complaint.location else None,
        unit_only=unit_only,
        kinds=frozenset(complaint.device_kinds) | words.kinds,
        said=words,
        category=complaint.category,
        at=complaint.received_at,
        complaint_id=complaint.id,
        place_unknown=complaint.location is None and bool(complaint.unit_text),
    )


@dataclass(frozen=True)
class Scope:
    """Where to look: location nodes near the place, and kinds to look for site-wide."""

    site_id: str
    near: dict[int, str]
    """Location id → path, on the complaint's path, below it, and above it for leaks."""
    site_kinds: frozenset[str]


def scope_of(session: Session, where: Where) -> Scope:
    """The nodes around the complaint's place, and the kinds searched across the site."""
    if where.path is None:
        return Scope(where.site_id, {}, frozenset() if where.place_unknown else where.kinds)
    site_kinds = where.kinds & AWAY_FROM_HOME if where.unit_only else frozenset()
    exact = ancestors(where.path)
    # A unit or room: its whole floor (the corridor, the pipe well, the room next door).
    ranges = [subtree_bounds("/".join(where.path[:2]))]
    if DeviceKind.leak in where.kinds:
        for above in floors_above(where.path):
            exact.append(above)
            ranges.append(subtree_bounds(above))
    within = [Location.path.in_(exact)] + [
        and_(Location.path >= low, Location.path < high) for low, high in ranges
    ]
    rows = session.execute(
        select(Location.id, Location.path)
        .where(Location.site_id == where.site_id, or_(*within))
        .limit(5000)
    ).all()
    return Scope(where.site_id, {int(i): str(p) for i, p in rows}, site_kinds)


def near_alarms(near: Sequence[int], kinds: Iterable[str], since: datetime) -> Select[Alarm]:
    """Alarms uncleared or cleared since `since`, of devices of `kinds` at the `near` nodes.

    Planned from the nodes: their devices by `ix_devices_location_id`, each device's alarms
    by its index on (device_id, type, cleared_at).
    """
    return (
        select(Alarm)
        .join(Device, Device.id == Alarm.device_id)
        .where(
            Device.location_id.in_(sorted(near)),
            Device.kind.in_(sorted(kinds)),
            or_(Alarm.cleared_at.is_(None), Alarm.cleared_at >= since),
        )
        .limit(MAX_ROWS)
    )


def site_alarms(site_id: str, kinds: Iterable[str], since: datetime) -> list[Select[Alarm]]:
    """A site's alarms of `kinds`, uncleared and cleared since `since` (one index range each)."""
    return [
        select(Alarm)
        .join(Device, Device.id == Alarm.device_id)
        .where(Alarm.site_id == site_id, when, Device.kind.in_(sorted(kinds)))
        .limit(MAX_ROWS)
        for when in (Alarm.cleared_at.is_(None), Alarm.cleared_at >= since)
    ]


def _alarm_rows(session: Session, scope: Scope, where: Where, since: datetime) -> list[Alarm]:
    found: dict[int, Alarm] = {}
    if scope.near and where.kinds:
        found.update(
            (a.id, a) for a in session.scalars(near_alarms(list(scope.near), where.kinds, since))
        )
    if scope.site_kinds:
        for query in site_alarms(scope.site_id, scope.site_kinds, since):
            found.update((a.id, a) for a in session.scalars(query))
    return sorted(found.values(), key=lambda a: a.id)


@dataclass(frozen=True)
class Placed:
    """A device's kind and place."""

    kind: str
    path: str | None


def _devices(session: Session, ids: Iterable[str]) -> dict[str, Placed]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Device.id, Device.kind, Location.path)
        .outerjoin(Location, Location.id == Device.location_id)
        .where(Device.id.in_(wanted))
    ).all()
    return {d: Placed(k, p) for d, k, p in rows}


def alarm_candidate(alarm: Alarm, placed: Placed | None) -> Candidate:
    """An alarm as a candidate."""
    path = codes(placed.path) if placed else None
    return Candidate(
        type=LinkType.alarm,
        id=alarm.id,
        kinds=frozenset({placed.kind}) if placed else frozenset(),
        alarms=frozenset({alarm.type}),
        places=(path,) if path else (),
        active=alarm.cleared_at is None,
        began_at=alarm.raised_at,
        ended_at=alarm.cleared_at,
        label=alarm.type,
    )


def alarms_near(
    session: Session, scope: Scope, where: Where
) -> tuple[list[Candidate], dict[int, list[Alarm]]]:
    """Alarm candidates, and the alarms found per order (for the orders' candidates)."""
    since = where.at - w.longest_window()
    alarms = _alarm_rows(session, scope, where, since)
    placed = _devices(session, (a.device_id for a in alarms))
    by_order: dict[int, list[Alarm]] = {}
    for alarm in alarms:
        if alarm.work_order_id is not None:
            by_order.setdefault(alarm.work_order_id, []).append(alarm)
    return [alarm_candidate(a, placed.get(a.device_id)) for a in alarms], by_order


def _ended(order: WorkOrder) -> datetime | None:
    """When the order's work ended: its resolution, else its closing."""
    if order.status in HANDLING:
        return None
    met = [d.met_at for d in order.deadlines if d.step == "resolve" and d.met_at is not None]
    return max(met) if met else order.closed_at or order.updated_at


def order_candidates(
    session: Session, orders: Sequence[WorkOrder], *, exclude_complaint: int | None = None
) -> list[Candidate]:
    """Work orders as candidates: kinds, alarm types and places of their alarms and complaints."""
    ids = [o.id for o in orders]
    if not ids:
        return []
    alarm_rows = session.execute(
        select(Alarm.work_order_id, Alarm.type, Alarm.device_id).where(Alarm.work_order_id.in_(ids))
    ).all()
    placed = _devices(
        session, [d for _o, _t, d in alarm_rows] + [o.device_id for o in orders if o.device_id]
    )
    facts: dict[int, tuple[set[str], set[str], set[str]]] = {i: (set(), set(), set()) for i in ids}
    for order_id, alarm_type, device_id in alarm_rows:
        if order_id is None:
            continue
        kinds, types, paths = facts[order_id]
        types.add(alarm_type)
        if (p := placed.get(device_id)) is not None:
            kinds.add(p.kind)
            if p.path:
                paths.add(p.path)
    linked = session.execute(
        select(ComplaintWorkOrder.work_order_id, Complaint)
        .join(Complaint, Complaint.id == ComplaintWorkOrder.complaint_id)
        .where(ComplaintWorkOrder.work_order_id.in_(ids))
    ).all()
    for order_id, complaint in linked:
        if complaint.id == exclude_complaint:
            continue
        kinds, types, paths = facts[order_id]
        kinds.update(complaint.device_kinds)
        types.update(said(complaint.content).alarms)
        if complaint.location is not None:
            paths.add(complaint.location.path)
    out = []
    for order in orders:
        kinds, types, paths = facts[order.id]
        if order.device_id and (p := placed.get(order.device_id)) is not None:
            kinds.add(p.kind)
        if order.location is not None:
            paths.add(order.location.path)
        out.append(
            Candidate(
                type=LinkType.work_order,
                id=order.id,
                kinds=frozenset(kinds),
                alarms=frozenset(types),
                places=tuple(c for p in sorted(paths) if (c := codes(p))),
                active=order.status in HANDLING,
                began_at=order.created_at,
                ended_at=_ended(order),
                label=f"work order {order.id} ({order.status})",
            )
        )
    return out


def orders_near(
    session: Session, scope: Scope, where: Where, of_alarms: Iterable[int]
) -> list[WorkOrder]:
    """Orders at the nodes near the place, and the orders of the alarms found."""
    since = where.at - w.longest_window()
    found: dict[int, WorkOrder] = {}
    ids = sorted(set(of_alarms))
    if ids:
        found.update(
            (o.id, o) for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids)))
        )
    if scope.near:
        found.update((o.id, o) for o in session.scalars(orders_at(list(scope.near), since)))
    return sorted(found.values(), key=lambda o: o.id)


def orders_at(near: Sequence[int], since: datetime) -> Select[WorkOrder]:
    """Orders at the `near` nodes still being worked or changed since `since`."""
    return (
        select(WorkOrder)
        .where(
            WorkOrder.location_id.in_(sorted(near)),
            or_(WorkOrder.status.in_(_HANDLING), WorkOrder.updated_at >= since),
        )
        .limit(MAX_ROWS)
    )


def complaints_between(
    site_id: str, since: datetime, until: datetime, near: Sequence[int] = ()
) -> Select[Complaint]:
    """A site's complaints received in [since, until], newest first, at `near` nodes if given."""
    query = select(Complaint).where(
        Complaint.site_id == site_id,
        Complaint.received_at >= since,
        Complaint.received_at <= until,
    )
    if near:
        query = query.where(Complaint.location_id.in_(sorted(near)))
    return query.order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(MAX_ROWS)


def complaints_near(session: Session, scope: Scope, where: Where) -> list[Candidate]:
    """Earlier complaints at the nodes near the place (or, without a place, at the site)."""
    if where.path is not None and not scope.near:
        return []
    query = complaints_between(
        scope.site_id, where.at - w.COMPLAINT_WINDOW, where.at, list(scope.near)
    )
    return [complaint_candidate(c) for c in session.scalars(query) if c.id != where.complaint_id]


def complaint_candidate(complaint: Complaint) -> Candidate:
    """An earlier complaint as a candidate."""
    path = codes(complaint.location.path) if complaint.location else None
    return Candidate(
        type=LinkType.complaint,
        id=complaint.id,
        kinds=frozenset(complaint.device_kinds),
        alarms=said(complaint.content).alarms,
        places=(path,) if path else (),
        active=complaint.status not in COMPLAINT_TERMINAL,
        began_at=complaint.received_at,
        ended_at=complaint.closed_at,
        label=f"complaint {complaint.id}",
        category=complaint.category,
    )


def _abnormal(kind: str, signal: Signal) -> frozenset[str]:
    """The alarm types whose condition the reading itself shows."""
    spec = SPECS.get(kind)
    if spec is None:
        return frozenset()
    held = set()
    for rule in spec.rules:
        if rule.event is not None:
            if signal.channel == "event" and signal.type == rule.event:
                held.add(rule.type)
        elif signal.channel == "telemetry" and rule.holds(signal.payload):
            held.add(rule.type)
    return frozenset(held)


def latest_signal(device_id: str, since: datetime, until: datetime) -> Select[Signal]:
    """A device's latest signal in [since, until]: one probe of `ix_signals_device_id_ts`."""
    return (
        select(Signal)
        .where(Signal.device_id == device_id, Signal.ts >= since, Signal.ts <= until)
        .order_by(Signal.ts.desc())
        .limit(1)
    )


def signals_near(session: Session, scope: Scope, where: Where) -> list[Candidate]:
    """The latest reading of the nearest devices of the complaint's kinds, if it is abnormal."""
    if not scope.near or not where.kinds:
        return []
    mine = "/".join(where.path or ())
    devices = session.execute(
        select(Device.id, Device.kind, Location.path)
        .join(Location, Location.id == Device.location_id)
        .where(Device.location_id.in_(sorted(scope.near)), Device.kind.in_(sorted(where.kinds)))
    ).all()
    nearest = sorted(devices, key=lambda d: (d[2] != mine, len(d[2]), d[0]))[: w.MAX_SIGNAL_DEVICES]
    since = where.at - w.SIGNAL_WINDOW
    out = []
    for device_id, kind, path in nearest:
        signal = session.scalar(latest_signal(device_id, since, where.at))
        if signal is None or not (shown := _abnormal(kind, signal)):
            continue
        out.append(
            Candidate(
                type=LinkType.signal,
                id=signal.id,
                kinds=frozenset({kind}),
                alarms=shown,
                places=(codes(path) or (),),
                active=True,
                began_at=signal.ts,
                ended_at=None,
                label=f"{device_id} reading ({', '.join(sorted(shown))})",
            )
        )
    return out


def notices_up(session: Session, where: Where) -> list[Candidate]:
    """The notices up at the site."""
    rows = session.scalars(
        select(Notice).where(Notice.site_id == where.site_id, Notice.withdrawn_at.is_(None))
    )
    out = []
    for notice in rows:
        paths: list[Codes] = [
            c for p in [*notice.fault_locations, *notice.locations] if (c := codes(p))
        ]
        out.append(
            Candidate(
                type=LinkType.notice,
                id=notice.id,
                kinds=frozenset({notice.kind}),
                alarms=frozenset({notice.alarm_type}),
                places=tuple(dict.fromkeys(paths)),
                active=True,
                began_at=notice.published_at,
                ended_at=None,
                label=f"notice {notice.id}",
            )
        )
    return out


def gather(session: Session, where: Where) -> list[Candidate]:
    """Every candidate around the complaint."""
    scope = scope_of(session, where)
    alarms, by_order = alarms_near(session, scope, where)
    orders = orders_near(session, scope, where, by_order)
    return [
        *order_candidates(session, orders, exclude_complaint=where.complaint_id),
        *alarms,
        *notices_up(session, where),
        *signals_near(session, scope, where),
        *complaints_near(session, scope, where),
    ]
