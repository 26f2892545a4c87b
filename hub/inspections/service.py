"""Patrol log service: record entries, cross-check them against the sensors, list them."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from hub.alarms.models import Alarm
from hub.alarms.rules import RuleBook
from hub.errors import InvalidInput, NotFound
from hub.inspections import crosscheck, rounds
from hub.inspections.crosscheck import KIND_OF, WINDOW, AlarmSpan, Claim, Reading, Thresholds
from hub.inspections.enums import Item, State, Verdict
from hub.inspections.models import (
    Discrepancy,
    Inspection,
    InspectionDevice,
    InspectionItem,
    InspectionRoute,
    RouteCheckpoint,
)
from hub.registry.models import Device, Location
from hub.registry.service import find_location, get_device, split_path
from hub.signals.models import Signal
from hub.signals.service import list_signals

logger = logging.getLogger(__name__)

FUTURE_SKEW = timedelta(minutes=5)
OLDEST = timedelta(days=366)


@dataclass(frozen=True)
class Entry:
    """A patrol log entry as the API or a CSV import hands it in."""

    site_id: str
    inspector: str
    observed_at: datetime
    items: Sequence[tuple[Item, State, str]]
    location: str | None = None
    device_id: str | None = None
    route: int | str | None = None
    source: str = "api"


def find_route(*, session: Session, site_id: str, ref: int | str) -> InspectionRoute:
    """The site's route with this id or name, or NotFound."""
    column = InspectionRoute.id if isinstance(ref, int) else InspectionRoute.name
    route = session.scalar(
        select(InspectionRoute).where(InspectionRoute.site_id == site_id, column == ref)
    )
    if route is None:
        raise NotFound(f"no inspection route {ref!r} in site {site_id!r}")
    return route


def _checked_time(observed_at: datetime, now: datetime) -> datetime:
    if observed_at.tzinfo is None:
        raise InvalidInput("observed_at needs a UTC offset", details={"field": "observed_at"})
    if observed_at > now + FUTURE_SKEW:
        raise InvalidInput(
            f"observed_at {observed_at.isoformat()} is in the future",
            details={"field": "observed_at"},
        )
    if observed_at < now - OLDEST:
        raise InvalidInput("observed_at is more than a year ago", details={"field": "observed_at"})
    return observed_at


def record(
    *,
    session: Session,
    entry: Entry,
    actor: str,
    now: datetime,
    zone: tzinfo,
    rules: RuleBook | None = None,
) -> Inspection:
    """Store an entry, cross-check it at once, and mark the rounds it walks."""
    observed_at = _checked_time(entry.observed_at, now)
    location = device = None
    if entry.device_id is not None:
        device = get_device(
            session=session, device_id=entry.device_id, site_ids=frozenset({entry.site_id})
        )
    if entry.location is not None:
        location = find_location(session=session, site_id=entry.site_id, path=entry.location)
    route = (
        find_route(session=session, site_id=entry.site_id, ref=entry.route)
        if entry.route is not None
        else None
    )
    inspection = Inspection(
        site_id=entry.site_id,
        route_id=route.id if route else None,
        location=location if location is not None else (device.location if device else None),
        device_id=device.id if device else None,
        inspector=entry.inspector,
        observed_at=observed_at,
        recorded_at=now,
        recorded_by=actor,
        source=entry.source,
        checked_at=now,
        window_since=observed_at - WINDOW,
        window_until=observed_at + WINDOW,
        items=[
            InspectionItem(
                position=i, item=item, state=state, note=note, verdict=Verdict.unverifiable
            )
            for i, (item, state, note) in enumerate(entry.items)
        ],
    )
    session.add(inspection)
    session.flush()
    check_entry(session=session, inspection=inspection, now=now, zone=zone, rules=rules)
    rounds.visit(session=session, inspection=inspection, now=now, zone=zone)
    logger.info(
        "inspection %s by %s: %d discrepancies",
        inspection.id,
        inspection.inspector,
        len(inspection.discrepancies),
    )
    return inspection


def _devices(session: Session, inspection: Inspection, kind: str) -> Sequence[Device]:
    """The devices of `kind` the entry speaks about: its device, or those at its place."""
    if inspection.device_id is not None:
        device = session.get(Device, inspection.device_id)
        return [device] if device is not None and device.kind == kind else []
    if inspection.location is None:
        return []
    prefix = "/".join(split_path(inspection.location.path))
    return session.scalars(
        select(Device)
        .join(Location, Device.location_id == Location.id)
        .where(
            Device.site_id == inspection.site_id,
            Device.kind == kind,
            or_(Location.path == prefix, Location.path.startswith(f"{prefix}/", autoescape=True)),
        )
        .order_by(Device.id)
    ).all()


def readings(
    *, session: Session, device_id: str, since: datetime, until: datetime
) -> list[Reading]:
    """The device's signals between `since` and `until` (inclusive), as the check reads them."""
    rows = list_signals(
        session=session,
        device_id=device_id,
        since=since,
        until=until + timedelta(microseconds=1),
        limit=5000,
    )
    return [Reading(s.ts, s.channel, s.type, s.payload, s.digest, s.received_at) for s in rows]


def alarm_spans(
    *, session: Session, device_id: str, since: datetime, until: datetime
) -> list[AlarmSpan]:
    """The device's alarms that stood at some time between `since` and `until`."""
    rows = session.scalars(
        select(Alarm)
        .where(
            Alarm.device_id == device_id,
            Alarm.raised_at <= until,
            or_(Alarm.cleared_at.is_(None), Alarm.cleared_at >= since),
        )
        .order_by(Alarm.raised_at, Alarm.id)
    )
    return [AlarmSpan(a.id, a.type, a.raised_at, a.cleared_at) for a in rows]


def _thresholds(rules: RuleBook, site_id: str, kind: str) -> Thresholds:
    if kind == "restroom":
        empty = rules.rule(site_id, kind, "supplies_empty")
        return Thresholds(empty_pct=empty.params["below_pct"] if empty else 0.0)
    if kind == "light":
        lamp = rules.rule(site_id, kind, "lamp_failure")
        return Thresholds(min_power_w=lamp.params["min_power_w"] if lamp else 1.0)
    return Thresholds()


def check_entry(
    *,
    session: Session,
    inspection: Inspection,
    now: datetime,
    zone: tzinfo,
    rules: RuleBook | None = None,
) -> list[Discrepancy]:
    """Cross-check every item of the entry against the sensors; replace its discrepancies."""
    rules = rules or RuleBook()
    found: list[Discrepancy] = []
    checked: set[str] = set()
    since = inspection.observed_at - WINDOW
    for line in inspection.items:
        item = Item(line.item)
        kind = KIND_OF.get(item)
        verdicts: list[Verdict] = []
        for device in _devices(session, inspection, kind) if kind else ():
            checked.add(device.id)
            heartbeat = timedelta(seconds=device.heartbeat_timeout_s)
            since = min(since, inspection.observed_at - heartbeat)
            claim = Claim(item, State(line.state), inspection.observed_at, heartbeat, zone)
            result = crosscheck.check(
                claim,
                readings(
                    session=session,
                    device_id=device.id,
                    since=inspection.observed_at - max(heartbeat, WINDOW),
                    until=inspection.observed_at + WINDOW,
                ),
                alarm_spans(
                    session=session,
                    device_id=device.id,
                    since=inspection.observed_at - WINDOW,
                    until=inspection.observed_at + WINDOW,
                ),
                _thresholds(rules, inspection.site_id, device.kind),
            )
            verdicts.append(result.verdict)
            if result.verdict == Verdict.contradicted:
                found.append(
                    Discrepancy(
                        site_id=inspection.site_id,
                        item=line.item,
                        claimed=line.state,
                        observed=result.observed[:200],
                        device_id=device.id,
                        at=result.at or inspection.observed_at,
                        reason=result.reason,
                        evidence=[_stored(e) for e in result.evidence],
                    )
                )
        line.verdict = _overall(verdicts)
    inspection.discrepancies = found
    inspection.devices = [InspectionDevice(device_id=d) for d in sorted(checked)]
    inspection.window_since = since
    inspection.checked_at = now
    session.flush()
    return found


def _stored(evidence: dict[str, object]) -> dict[str, object]:
    """Evidence as JSON stores it: times as ISO-8601 text."""
    return {
        k: (v.isoformat() if isinstance(v, datetime) else _stored(v) if isinstance(v, dict) else v)
        for k, v in evidence.items()
    }


def _overall(verdicts: Collection[Verdict]) -> Verdict:
    if Verdict.contradicted in verdicts:
        return Verdict.contradicted
    if Verdict.consistent in verdicts:
        return Verdict.consistent
    return Verdict.unverifiable


def get_inspection(*, session: Session, inspection_id: int, site_ids: frozenset[str]) -> Inspection:
    """The entry with this id, if it is in one of `site_ids`."""
    row = session.get(Inspection, inspection_id)
    if row is None or row.site_id not in site_ids:
        raise NotFound(f"inspection {inspection_id} not found")
    return row


def list_inspections(
    *,
    session: Session,
    site_ids: Collection[str],
    since: datetime | None = None,
    until: datetime | None = None,
    location_paths: Collection[str] = (),
    limit: int = 200,
) -> Sequence[Inspection]:
    """Entries in the sites, by observation time, within [since, until) and under the paths."""
    query = select(Inspection).where(Inspection.site_id.in_(sorted(site_ids)))
    if since is not None:
        query = query.where(Inspection.observed_at >= since)
    if until is not None:
        query = query.where(Inspection.observed_at < until)
    if location_paths:
        query = query.join(Location, Inspection.location_id == Location.id).where(
            or_(
                *(
                    or_(Location.path == p, Location.path.startswith(f"{p}/", autoescape=True))
                    for p in location_paths
                )
            )
        )
    query = query.options(
        selectinload(Inspection.items), selectinload(Inspection.discrepancies)
    ).order_by(Inspection.observed_at, Inspection.id)
    return session.scalars(query.limit(limit)).all()


def list_discrepancies(
    *,
    session: Session,
    site_ids: Collection[str],
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> tuple[list[tuple[Discrepancy, Inspection]], dict[str, int], dict[str, int]]:
    """Discrepancies of entries observed in [since, until), and counts per inspector and route."""
    query = (
        select(Discrepancy, Inspection)
        .join(Inspection, Discrepancy.inspection_id == Inspection.id)
        .where(Inspection.site_id.in_(sorted(site_ids)))
    )
    if since is not None:
        query = query.where(Inspection.observed_at >= since)
    if until is not None:
        query = query.where(Inspection.observed_at < until)
    rows = [
        (d, i) for d, i in session.execute(query.order_by(Inspection.observed_at, Discrepancy.id))
    ]
    names = {
        r.id: r.name
        for r in session.scalars(
            select(InspectionRoute).where(
                InspectionRoute.id.in_({i.route_id for _, i in rows if i.route_id})
            )
        )
    }
    by_inspector = Counter(i.inspector for _, i in rows)
    by_route = Counter(names.get(i.route_id, "-") if i.route_id else "-" for _, i in rows)
    return rows[:limit], dict(by_inspector.most_common()), dict(by_route.most_common())


def stale_entries(
    *, session: Session, now: datetime, horizon: timedelta = timedelta(days=2)
) -> Sequence[Inspection]:
    """Entries a signal stored after their check speaks about (a late message, a reading
    inside their window)."""
    late = (
        select(Inspection.id)
        .join(InspectionDevice, InspectionDevice.inspection_id == Inspection.id)
        .join(Signal, Signal.device_id == InspectionDevice.device_id)
        .where(
            Inspection.window_until > now - horizon,
            Signal.ts >= Inspection.window_since,
            Signal.ts <= Inspection.window_until,
            Signal.received_at > Inspection.checked_at,
        )
        .distinct()
    )
    return session.scalars(
        select(Inspection).where(Inspection.id.in_(late)).order_by(Inspection.id)
    ).all()


def entries_for_devices(*, session: Session, earliest: dict[str, datetime]) -> Sequence[Inspection]:
    """Entries whose window holds a device's late message: its `ts` at or before the entry."""
    if not earliest:
        return []
    hits = []
    for device_id, ts in earliest.items():
        hits.append(
            select(Inspection.id)
            .join(InspectionDevice, InspectionDevice.inspection_id == Inspection.id)
            .where(
                InspectionDevice.device_id == device_id,
                Inspection.window_since <= ts,
                Inspection.window_until >= ts,
            )
        )
    ids: set[int] = set()
    for query in hits:
        ids.update(session.scalars(query))
    return session.scalars(
        select(Inspection).where(Inspection.id.in_(ids)).order_by(Inspection.id)
    ).all()


@dataclass(frozen=True)
class Stop:
    """A checkpoint as given: a place or a device, and its items."""

    items: Sequence[Item]
    location: str | None = None
    device_id: str | None = None


def create_route(
    *,
    session: Session,
    site_id: str,
    name: str,
    interval_minutes: int,
    grace_minutes: int,
    stops: Sequence[Stop],
    actor: str,
    now: datetime,
) -> InspectionRoute:
    """A new patrol route; its first round starts now."""
    taken = session.scalar(
        select(InspectionRoute.id).where(
            InspectionRoute.site_id == site_id, InspectionRoute.name == name
        )
    )
    if taken is not None:
        raise InvalidInput(
            f"site {site_id!r} already has a route {name!r}", details={"field": "name"}
        )
    route = InspectionRoute(
        site_id=site_id,
        name=name,
        interval_minutes=interval_minutes,
        grace_minutes=grace_minutes,
        active=True,
        created_at=now,
        created_by=actor,
    )
    sites = frozenset({site_id})
    for position, stop in enumerate(stops):
        location = (
            find_location(session=session, site_id=site_id, path=stop.location)
            if stop.location is not None
            else None
        )
        device = (
            get_device(session=session, device_id=stop.device_id, site_ids=sites)
            if stop.device_id is not None
            else None
        )
        route.checkpoints.append(
            RouteCheckpoint(
                position=position,
                location=location,
                device_id=device.id if device else None,
                items=[str(i) for i in stop.items],
            )
        )
    session.add(route)
    session.flush()
    rounds.open_due(session=session, now=now)
    return route


def list_routes(*, session: Session, site_ids: frozenset[str]) -> Sequence[InspectionRoute]:
    """Routes of the sites, by name."""
    return session.scalars(
        select(InspectionRoute)
        .where(InspectionRoute.site_id.in_(sorted(site_ids)))
        .order_by(InspectionRoute.site_id, InspectionRoute.name)
    ).all()


def get_route(*, session: Session, route_id: int, site_ids: frozenset[str]) -> InspectionRoute:
    """One route of the caller's sites; another site's is not found."""
    route = session.get(InspectionRoute, route_id)
    if route is None or route.site_id not in site_ids:
        raise NotFound(f"route {route_id} not found")
    return route


def get_checkpoint(
    *, session: Session, checkpoint_id: int, site_ids: frozenset[str]
) -> RouteCheckpoint:
    """One checkpoint of a route of the caller's sites; another site's is not found."""
    checkpoint = session.get(RouteCheckpoint, checkpoint_id)
    if checkpoint is None or checkpoint.route.site_id not in site_ids:
        raise NotFound(f"checkpoint {checkpoint_id} not found")
    return checkpoint
