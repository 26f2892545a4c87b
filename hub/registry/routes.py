"""HTTP routes of the registry: sites and devices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field
from sqlalchemy import select

from hub.access import Action
from hub.alarms.service import active_by_device
from hub.api.deps import NowDep, PrincipalDep, SessionDep, allowed
from hub.api.params import DeviceIdPath, IdPath, Offset
from hub.auth.principal import Principal
from hub.inputs import Input
from hub.registry import quarantine, service
from hub.registry.enums import Adapter, DeviceKind, DeviceStatus
from hub.registry.models import Site
from hub.registry.schemas import (
    DeviceOut,
    QuarantineApproval,
    QuarantinedOut,
    QuarantinePage,
    SiteOut,
)

router = APIRouter(tags=["registry"])


@router.get("/sites", response_model=list[SiteOut])
def list_sites(session: SessionDep, principal: PrincipalDep) -> list[SiteOut]:
    """The sites in the caller's scope."""
    sites = session.scalars(select(Site).where(Site.id.in_(principal.site_ids)).order_by(Site.id))
    return [SiteOut.build(s) for s in sites]


class DeviceFilter(Input):
    """Query parameters of `GET /devices`; an unknown name is refused, never ignored."""

    site: str | None = Field(None, description="One site of the caller's.")
    kind: list[DeviceKind] = Field(default_factory=list, description="Repeatable: any of these.")
    status: list[DeviceStatus] = Field(
        default_factory=list, description="Repeatable: online, late, offline."
    )
    location: str | None = Field(
        None, description="Location path prefix: 3/12 matches 3/12 and below it, not 3/120."
    )


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(
    session: SessionDep,
    principal: PrincipalDep,
    filters: Annotated[DeviceFilter, Query()],
) -> list[DeviceOut]:
    """Devices in the caller's sites with live status, filtered by site, kind, status, place."""
    devices = service.list_devices(
        session=session,
        site_ids=principal.site_ids,
        site=filters.site,
        kinds=filters.kind,
        statuses=filters.status,
        location=filters.location,
    )
    alarms = active_by_device(session=session, device_ids=[d.id for d in devices])
    return [DeviceOut.build(d, active_alarms=alarms.get(d.id)) for d in devices]


@router.get("/devices/{device_id}", response_model=DeviceOut)
def get_device(device_id: DeviceIdPath, session: SessionDep, principal: PrincipalDep) -> DeviceOut:
    """One device with live status."""
    device = service.get_device(session=session, device_id=device_id, site_ids=principal.site_ids)
    alarms = active_by_device(session=session, device_ids=[device.id])
    return DeviceOut.build(device, active_alarms=alarms.get(device.id))


Registrar = Annotated[Principal, Depends(allowed(Action.register_devices))]


@router.get("/quarantine", response_model=QuarantinePage)
def list_quarantine(
    session: SessionDep,
    _principal: Registrar,
    adapter: Adapter | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> QuarantinePage:
    """Adapter devices heard from but not registered, the most recently heard first.

    They belong to no site yet, so only admins see them.
    """
    items, total = quarantine.list_quarantined(
        session=session, adapter=adapter, limit=limit, offset=offset
    )
    return QuarantinePage(total=total, items=[QuarantinedOut.build(i) for i in items])


@router.post("/quarantine/{quarantine_id}/approve", response_model=DeviceOut, status_code=201)
def approve_quarantined(
    quarantine_id: IdPath,
    body: QuarantineApproval,
    session: SessionDep,
    principal: Registrar,
    now: NowDep,
) -> DeviceOut:
    """Register a held device in one of the caller's sites; its next messages are ingested."""
    device = quarantine.approve(
        session=session,
        quarantine_id=quarantine_id,
        registration=quarantine.Registration(
            device_id=body.id,
            site_id=body.site,
            kind=body.kind,
            name=body.name,
            location=body.location,
            heartbeat_timeout_s=body.heartbeat_timeout_s,
            installed_on=body.installed_on,
        ),
        site_ids=principal.site_ids,
        now=now,
    )
    session.commit()
    return DeviceOut.build(device)


@router.delete("/quarantine/{quarantine_id}", status_code=204, response_class=Response)
def dismiss_quarantined(quarantine_id: IdPath, session: SessionDep, _principal: Registrar) -> None:
    """Forget a held device (held again if it speaks again)."""
    quarantine.dismiss(session=session, quarantine_id=quarantine_id)
    session.commit()
