"""HTTP routes of signals and dead letters (thin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from hub.api.deps import PrincipalDep, SessionDep
from hub.api.params import Offset
from hub.auth.enums import Role
from hub.errors import InvalidInput
from hub.registry.service import get_device
from hub.signals import service
from hub.signals.schemas import DeadLetterOut, DeadLetterPage, SignalOut, SignalPage

router = APIRouter(tags=["signals"])


@router.get("/devices/{device_id}/signals", response_model=SignalPage)
def device_signals(
    device_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: Literal["telemetry", "event", "status"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> SignalPage:
    """The device's recorded signals between `since` and `until` (ISO-8601 with offset)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a UTC offset", details={"field": name})
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
    principal: PrincipalDep,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> DeadLetterPage:
    """Rejected MQTT messages, newest first, and counts per reason.

    Admins also see messages whose topic named no known site.
    """
    scope = None if principal.role == Role.admin else principal.site_ids
    items, counts = service.list_dead_letters(
        session=session, site_ids=scope, reason=reason, limit=limit, offset=offset
    )
    return DeadLetterPage(
        counts=counts,
        total=sum(counts.values()),
        items=[DeadLetterOut.build(d) for d in items],
    )
