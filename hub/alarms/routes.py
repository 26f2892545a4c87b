"""HTTP routes of alarms (thin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hub.access import Action
from hub.alarms import flows, service
from hub.alarms.enums import AlarmStatus
from hub.alarms.schemas import AckIn, AlarmOut
from hub.api.deps import NowDep, PrincipalDep, SessionDep, allowed
from hub.api.params import IdPath, Offset
from hub.auth.principal import Principal
from hub.registry.service import device_names

router = APIRouter(prefix="/alarms", tags=["alarms"])

_StaffDep = Annotated[Principal, Depends(allowed(Action.ack_alarm))]
_ClearDep = Annotated[Principal, Depends(allowed(Action.clear_alarm))]


@router.get("", response_model=list[AlarmOut])
def list_alarms(
    session: SessionDep,
    principal: PrincipalDep,
    status: AlarmStatus = AlarmStatus.open,
    site: str | None = None,
    device_id: str | None = None,
    type: str | None = None,  # noqa: A002 - the contract's field name
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[AlarmOut]:
    """Alarms in the caller's sites, latest activity first (default: not cleared)."""
    alarms = service.list_alarms(
        session=session,
        site_ids=principal.site_ids,
        status=status,
        site=site,
        device_id=device_id,
        alarm_type=type,
        limit=limit,
        offset=offset,
    )
    names = device_names(session=session, device_ids={a.device_id for a in alarms})
    return [AlarmOut.build(a, names.get(a.device_id, ("", ""))) for a in alarms]


@router.get("/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: IdPath, session: SessionDep, principal: PrincipalDep) -> AlarmOut:
    """One alarm."""
    return AlarmOut.build(
        service.get_alarm(session=session, alarm_id=alarm_id, site_ids=principal.site_ids)
    )


@router.post("/{alarm_id}/ack", response_model=AlarmOut)
def ack_alarm(
    alarm_id: IdPath,
    session: SessionDep,
    principal: _StaffDep,
    now: NowDep,
    body: AckIn | None = None,
) -> AlarmOut:
    """Acknowledge an alarm (it stays until its condition clears); repeating is harmless."""
    alarm = service.get_alarm(session=session, alarm_id=alarm_id, site_ids=principal.site_ids)
    service.acknowledge(session=session, alarm=alarm, actor=principal.name, now=now)
    session.commit()
    return AlarmOut.build(alarm)


@router.post("/{alarm_id}/clear", response_model=AlarmOut)
def clear_alarm(
    alarm_id: IdPath, session: SessionDep, principal: _ClearDep, now: NowDep
) -> AlarmOut:
    """Clear an alarm by hand (event alarms the sensors cannot see end); 409 if cleared."""
    alarm = service.get_alarm(session=session, alarm_id=alarm_id, site_ids=principal.site_ids)
    service.clear_by_hand(session=session, alarm=alarm, actor=principal.name, now=now)
    flows.on_cleared(session=session, alarm=alarm, now=now)
    session.commit()
    return AlarmOut.build(alarm)
