"""HTTP routes of the registry: sites and devices."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from hub.alarms.service import active_by_device
from hub.api.deps import PrincipalDep, SessionDep
from hub.registry import service
from hub.registry.enums import DeviceKind
from hub.registry.models import Site
from hub.registry.schemas import DeviceOut, SiteOut

router = APIRouter(tags=["registry"])


@router.get("/sites", response_model=list[SiteOut])
def list_sites(session: SessionDep, principal: PrincipalDep) -> list[SiteOut]:
    """The sites in the caller's scope."""
    sites = session.scalars(select(Site).where(Site.id.in_(principal.site_ids)).order_by(Site.id))
    return [SiteOut.build(s) for s in sites]


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(
    session: SessionDep,
    principal: PrincipalDep,
    site: str | None = None,
    kind: DeviceKind | None = None,
) -> list[DeviceOut]:
    """Devices in the caller's sites with live status."""
    devices = service.list_devices(
        session=session, site_ids=principal.site_ids, site=site, kind=kind
    )
    alarms = active_by_device(session=session, device_ids=[d.id for d in devices])
    return [DeviceOut.build(d, active_alarms=alarms.get(d.id)) for d in devices]


@router.get("/devices/{device_id}", response_model=DeviceOut)
def get_device(device_id: str, session: SessionDep, principal: PrincipalDep) -> DeviceOut:
    """One device with live status."""
    device = service.get_device(session=session, device_id=device_id, site_ids=principal.site_ids)
    alarms = active_by_device(session=session, device_ids=[device.id])
    return DeviceOut.build(device, active_alarms=alarms.get(device.id))
