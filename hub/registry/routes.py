"""HTTP routes of the registry: sites and devices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import select

from hub.alarms.service import active_by_device
from hub.api.deps import PrincipalDep, SessionDep
from hub.api.params import DeviceIdPath
from hub.inputs import Input
from hub.registry import service
from hub.registry.enums import DeviceKind, DeviceStatus
from hub.registry.models import Site
from hub.registry.schemas import DeviceOut, SiteOut

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
