"""HTTP routes of signals and dead letters (thin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from devices.base import Reason
from hub.access import Action
from hub.api.deps import PrincipalDep, SessionDep, allowed
from hub.api.params import DeviceIdPath, Offset
from hub.auth.enums import Role
from hub.auth.principal import Principal
from hub.errors import InvalidInput
from hub.inputs import When
from hub.registry.service import get_device
from hub.signals import service
from hub.signals.schemas import DeadLetterOut, DeadLetterPage, SignalOut, SignalPage

router = APIRouter(tags=["signals"])


@router.get("/devices/{device_id}/signals", response_model=SignalPage)
def device_signals(
    device_id: DeviceIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    since: When | None = None,
    until: When | None = None,
    channel: Literal["telemetry", "event", "status"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> SignalPage:
    """The device's recorded signals between `since` and `until` (ISO-8601 with offset)."""
    if since and until and until <= since:
        raise InvalidInput("until must be after since", details={"field": "until"})
    device = get_device(session=session, device_id=device_id, site_ids=principal.site_ids)
    rows = service.list_signals(
        session=session,
        device_id=device.id,
        since=since,
        until=until,
        channel=channel,
        limit=limit + 1,
    )
    items = [SignalOut.build(s) for s in rows[:limit]]
    return SignalPage(
        device_id=device.id,
        since=since,
        until=until,
        count=len(items),
        truncated=len(rows) > limit,
        items=items,
    )


@router.get("/dead-letters", response_model=DeadLetterPage)
def dead_letters(
    session: SessionDep,
    principal: Annotated[Principal, Depends(allowed(Action.read_dead_letters))],
    reason: Reason | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> DeadLetterPage:
    """Rejected MQTT messages of the caller's sites, newest first, and counts per reason.

    Admins also see messages whose topic named no site at all (a malformed topic).
    """
    items, counts = service.list_dead_letters(
        session=session,
        site_ids=principal.site_ids,
        unattributed=principal.role == Role.admin,
        reason=reason,
        limit=limit,
        offset=offset,
    )
    return DeadLetterPage(
        counts=counts,
        total=sum(counts.values()),
        items=[DeadLetterOut.build(d) for d in items],
    )
