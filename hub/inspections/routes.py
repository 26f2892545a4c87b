"""HTTP routes of patrol logs (thin: parse, call the service, commit, shape)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from hub.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep
from hub.api.params import IdPath
from hub.attachments.service import attach, ids_by_inspection
from hub.auth.principal import Principal
from hub.errors import InvalidInput, NotFound
from hub.inspections import qrsheet, rounds, service
from hub.inspections.deps import ManagerDep, RulesDep
from hub.inspections.models import InspectionRoute
from hub.inspections.schemas import (
    CheckpointOut,
    DiscrepancyOut,
    DiscrepancyPage,
    InspectionIn,
    InspectionOut,
    InspectionQuery,
    RoundOut,
    RoundQuery,
    RouteIn,
    RouteOut,
)

router = APIRouter(prefix="/inspections", tags=["inspections"])


def site_of(principal: Principal, site: str | None) -> str:
    """The site a body names, or the caller's only one; another's is not found."""
    if site is None:
        if len(principal.site_ids) != 1:
            raise InvalidInput("say which site (`site`)", details={"field": "site"})
        (site,) = principal.site_ids
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
    return site


def sites_of(principal: Principal, site: str | None) -> frozenset[str]:
    """The sites a query covers: one named, or all of the caller's."""
    return frozenset({site_of(principal, site)}) if site is not None else principal.site_ids


def _window(query: InspectionQuery) -> None:
    if query.since and query.until and query.until <= query.since:
        raise InvalidInput("until must be after since", details={"field": "until"})


@router.post("", response_model=InspectionOut, status_code=status.HTTP_201_CREATED)
def create_inspection(
    body: InspectionIn,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    rules: RulesDep,
    now: NowDep,
) -> InspectionOut:
    """Record a patrol log entry; the answer carries the discrepancies found at once."""
    entry = service.Entry(
        site_id=site_of(principal, body.site),
        inspector=body.inspector,
        observed_at=body.observed_at,
        items=[(i.item, i.state, i.note) for i in body.items],
        location=body.location,
        device_id=body.device_id,
        route=body.route,
        source="qr" if body.scanned else "api",
    )
    inspection = service.record(
        session=session, entry=entry, actor=principal.name, now=now, zone=settings.zone, rules=rules
    )
    attach(
        session=session,
        site_id=entry.site_id,
        attachment_ids=body.attachment_ids,
        actor=principal.name,
        now=now,
        inspection_id=inspection.id,
    )
    session.commit()
    return InspectionOut.build(inspection, list(dict.fromkeys(body.attachment_ids)))


@router.get("", response_model=list[InspectionOut])
def list_inspections(
    session: SessionDep, principal: PrincipalDep, query: Annotated[InspectionQuery, Query()]
) -> list[InspectionOut]:
    """Entries in the caller's sites, by observation time."""
    _window(query)
    rows = service.list_inspections(
        session=session,
        site_ids=sites_of(principal, query.site),
        since=query.since,
        until=query.until,
        limit=query.limit,
    )
    return [InspectionOut.build(r) for r in rows]


@router.get("/discrepancies", response_model=DiscrepancyPage)
def list_discrepancies(
    session: SessionDep, principal: ManagerDep, query: Annotated[InspectionQuery, Query()]
) -> DiscrepancyPage:
    """Entries the sensors contradict, with counts per inspector and per route (managers)."""
    _window(query)
    rows, by_inspector, by_route = service.list_discrepancies(
        session=session,
        site_ids=sites_of(principal, query.site),
        since=query.since,
        until=query.until,
        limit=query.limit,
    )
    return DiscrepancyPage(
        items=[DiscrepancyOut.build(d) for d, _ in rows],
        by_inspector=by_inspector,
        by_route=by_route,
    )


def _route_out(route: InspectionRoute) -> RouteOut:
    return RouteOut(
        id=route.id,
        site=route.site_id,
        name=route.name,
        interval_minutes=route.interval_minutes,
        grace_minutes=route.grace_minutes,
        active=route.active,
        checkpoints=[CheckpointOut.build(c) for c in route.checkpoints],
    )


@router.post("/routes", response_model=RouteOut, status_code=status.HTTP_201_CREATED)
def create_route(
    body: RouteIn, session: SessionDep, principal: ManagerDep, now: NowDep
) -> RouteOut:
    """Set up a patrol route: its checkpoints and how often it is walked (managers)."""
    route = service.create_route(
        session=session,
        site_id=site_of(principal, body.site),
        name=body.name,
        interval_minutes=body.interval_minutes,
        grace_minutes=body.grace_minutes,
        stops=[service.Stop(c.items, c.location, c.device_id) for c in body.checkpoints],
        actor=principal.name,
        now=now,
    )
    session.commit()
    return _route_out(route)


@router.get("/routes", response_model=list[RouteOut])
def list_routes(session: SessionDep, principal: PrincipalDep) -> list[RouteOut]:
    """Patrol routes of the caller's sites."""
    return [
        _route_out(r) for r in service.list_routes(session=session, site_ids=principal.site_ids)
    ]


@router.get(
    "/routes/{route_id}/qr.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The QR sheet."}},
)
def route_qr_sheet(
    route_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    """The route's QR sheet to print: one code per checkpoint, opening its entry form."""
    route = service.get_route(session=session, route_id=route_id, site_ids=principal.site_ids)
    stops = [
        (c.id, c.location.path if c.location else None, c.device_id) for c in route.checkpoints
    ]
    pdf = qrsheet.sheet(route.name, qrsheet.labels_for(str(request.base_url), stops))
    name = f"route-{route.id}-qr.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/rounds", response_model=list[RoundOut])
def list_rounds(
    session: SessionDep, principal: PrincipalDep, query: Annotated[RoundQuery, Query()]
) -> list[RoundOut]:
    """Rounds of the routes, newest first: due, done or missed."""
    rows = rounds.list_rounds(
        session=session,
        site_ids=sites_of(principal, query.site),
        statuses=[s.value for s in query.status],
        limit=query.limit,
    )
    return [RoundOut.build(r) for r in rows]


@router.get("/{inspection_id}", response_model=InspectionOut)
def get_inspection(
    inspection_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> InspectionOut:
    """One entry with its verdicts and discrepancies."""
    row = service.get_inspection(
        session=session, inspection_id=inspection_id, site_ids=principal.site_ids
    )
    photos = ids_by_inspection(session=session, inspection_ids=[row.id])
    return InspectionOut.build(row, photos.get(row.id))
