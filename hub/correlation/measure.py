"""The proactive measure and the desk's look-up: read-only views over orders and complaints."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import MappingProxyType

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.complaints import intake
from hub.complaints.enums import Category
from hub.complaints.models import Complaint, ComplaintWorkOrder
from hub.complaints.places import site_wide
from hub.correlation import service
from hub.correlation.candidates import gather
from hub.correlation.enums import LinkType, Relation
from hub.correlation.places import codes
from hub.correlation.problems import Said
from hub.correlation.schemas import GoingOn, Proactive, ProactiveIssue
from hub.correlation.scoring import Where, rank, score
from hub.correlation.weights import LOOKUP_MAX, LOOKUP_THRESHOLD
from hub.notices import service as notices
from hub.registry.enums import DeviceKind
from hub.registry.models import Location
from hub.registry.service import split_path
from hub.workorders.enums import Source
from hub.workorders.models import WorkOrder

_NOTHING_SAID = Said(frozenset(), frozenset(), MappingProxyType({}))
_FAR = frozenset({Relation.site, Relation.next_door})


def nearest_known(
    *, session: Session, site_id: str, path: str
) -> tuple[Location | None, list[str]]:
    """The node at `path`, or its nearest known ancestor with the reason."""
    wanted = split_path(path)
    for depth in range(len(wanted), 0, -1):
        node = session.scalar(
            select(Location).where(
                Location.site_id == site_id, Location.path == "/".join(wanted[:depth])
            )
        )
        if node is not None:
            if depth == len(wanted):
                return node, []
            return node, [
                f"location {path} is not in the registry: nearest known place {node.path}"
            ]
    return None, [f"location {path} is not in the registry, nor any place above it"]


@dataclass(frozen=True)
class Look:
    """Where the desk's look-up looks: a registry node, the whole site, or nowhere."""

    place: Location | None
    reasons: list[str]
    nowhere: bool = False


def look_at(*, session: Session, site_id: str, location: str | None, text: str | None) -> Look:
    """The place a look-up is about: the path given, else the place the words name.

    Read as intake reads it (`intake.place_in_text`). A place not in the registry, nor
    anything above it, is nowhere; so are words that name no place, unless they are about
    the whole site.
    """
    if location:
        place, reasons = nearest_known(session=session, site_id=site_id, path=location)
        return Look(place, reasons, nowhere=place is None)
    if not text or not text.strip():
        return Look(None, [])
    read = intake.place_in_text(session, site_id, text)
    if read is None:
        if site_wide(text):
            return Look(None, ["the words are about the whole site"])
        return Look(None, ["no place named: say the unit or the area"], nowhere=True)
    if read.path is None:
        return Look(None, [f"location {read.why}"], nowhere=True)
    node = session.scalar(
        select(Location).where(Location.site_id == site_id, Location.path == read.path)
    )
    return Look(node, [f"location {read.why}"], nowhere=node is None)


def best_few(items: list[GoingOn], *, place_named: bool) -> list[GoingOn]:
    """At a place: those at or above the look-up threshold; at most a few, best first."""
    if place_named:
        items = [i for i in items if i.score >= LOOKUP_THRESHOLD]
    return items[:LOOKUP_MAX]


def going_on(
    *, session: Session, site_id: str, location: Location | None, now: datetime, zone: tzinfo
) -> list[GoingOn]:
    """Orders being worked at, around or above the place (any kind), best first."""
    where = Where(
        site_id=site_id,
        path=codes(location.path) if location else None,
        unit_only=False,
        kinds=frozenset(str(k) for k in DeviceKind),
        said=_NOTHING_SAID,
        category=Category.facility,
        at=now,
    )
    found = [
        s
        for c in gather(session, where)
        if c.type is LinkType.work_order
        and c.active
        and (s := score(where, c, zone=zone)) is not None
        and (location is None or s.relation.relation not in _FAR)
    ]
    ranked = rank(found)
    orders = {
        o.id: o
        for o in session.scalars(
            select(WorkOrder).where(WorkOrder.id.in_([s.candidate.id for s in ranked]))
        )
    }
    alarms = service.order_alarms(session=session, order_ids=orders)
    posted = notices.by_orders(session=session, order_ids=orders)
    shutoffs = service.first_responses(session=session, order_ids=orders)
    items = []
    for s in ranked:
        order = orders[s.candidate.id]
        view = service.known_issue_view(
            complaint=None,
            order=order,
            link=None,
            alarms=alarms.get(order.id, []),
            notice_id=posted[order.id].id if order.id in posted else None,
            shutoff=shutoffs.get(order.id),
            now=now,
            zone=zone,
        )
        view.score, view.reasons = s.score, list(s.reasons)
        items.append(
            GoingOn(
                work_order_id=order.id,
                title=order.title,
                location=order.location.path if order.location else None,
                score=s.score,
                reasons=list(s.reasons),
                known_issue=view,
            )
        )
    return items


def _minutes(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 60, 1)


def proactive(*, session: Session, site_id: str, since: datetime, until: datetime) -> Proactive:
    """Per issue (an order with complaints, opened in the window): who knew first, by how much.

    Read as columns, joined in the database (no id lists), so a year of a big site is one
    pass over each table.
    """
    window = (
        WorkOrder.site_id == site_id,
        WorkOrder.created_at >= since,
        WorkOrder.created_at < until,
    )
    linked = exists().where(ComplaintWorkOrder.work_order_id == WorkOrder.id)
    orders = session.execute(
        select(WorkOrder.id, WorkOrder.title, WorkOrder.source, WorkOrder.created_at)
        .where(*window, linked)
        .order_by(WorkOrder.id)
    ).all()
    complaints: dict[int, list[tuple[int, datetime]]] = {o.id: [] for o in orders}
    for order_id, complaint_id, received in session.execute(
        select(ComplaintWorkOrder.work_order_id, Complaint.id, Complaint.received_at)
        .join(Complaint, Complaint.id == ComplaintWorkOrder.complaint_id)
        .join(WorkOrder, WorkOrder.id == ComplaintWorkOrder.work_order_id)
        .where(*window)
    ):
        complaints[order_id].append((complaint_id, received))
    sensed: dict[int, datetime] = {}
    for alarm_order, at in session.execute(
        select(Alarm.work_order_id, func.min(Alarm.raised_at))
        .join(WorkOrder, WorkOrder.id == Alarm.work_order_id)
        .where(*window, linked)
        .group_by(Alarm.work_order_id)
    ).all():
        if alarm_order is not None:
            sensed[alarm_order] = at
    items = []
    for order in orders:
        first_complaint = min(at for _i, at in complaints[order.id])
        sensor_at = sensed.get(order.id) or (
            order.created_at if order.source == Source.sensor else None
        )
        first = sensor_at is not None and sensor_at <= first_complaint
        lead = None
        if sensor_at is not None:
            lead = (
                _minutes(sensor_at, first_complaint)
                if first
                else _minutes(first_complaint, sensor_at)
            )
        items.append(
            ProactiveIssue(
                work_order_id=order.id,
                title=order.title,
                source=order.source,
                complaint_ids=sorted(i for i, _at in complaints[order.id]),
                sensor_at=sensor_at,
                complaint_at=first_complaint,
                sensor_first=first,
                lead_minutes=lead,
            )
        )
    ahead = [i.lead_minutes for i in items if i.sensor_first and i.lead_minutes is not None]
    count = len(items)
    sensor_first = sum(1 for i in items if i.sensor_first)
    return Proactive(
        site=site_id,
        since=since,
        until=until,
        issues=count,
        sensor_first=sensor_first,
        complaint_first=count - sensor_first,
        ratio=round(sensor_first / count, 3) if count else None,
        median_lead_minutes=round(statistics.median(ahead), 1) if ahead else None,
        items=items,
    )
