"""HTTP routes of the parts store (thin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from hub.access import Action
from hub.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep, allowed
from hub.api.params import IdPath
from hub.auth.principal import Principal
from hub.errors import NotFound
from hub.parts import service
from hub.parts.schemas import (
    MovementIn,
    MovementOut,
    PartDetailOut,
    PartForecastList,
    PartForecastOut,
    PartIn,
    PartList,
    PartOut,
)

router = APIRouter(prefix="/parts", tags=["parts"])

_KeeperDep = Annotated[Principal, Depends(allowed(Action.keep_parts))]


@router.get("", response_model=PartList)
def list_parts(session: SessionDep, principal: PrincipalDep, site: str | None = None) -> PartList:
    """Parts of the caller's sites with their stock and what is on order."""
    parts = service.list_parts(session=session, site_ids=principal.site_ids, site=site)
    return PartList(items=[PartOut.build(p) for p in parts])


@router.post("", response_model=PartOut, status_code=status.HTTP_201_CREATED)
def create_part(body: PartIn, session: SessionDep, principal: _KeeperDep, now: NowDep) -> PartOut:
    """Add a part to a site's store (its opening stock is recorded as a movement)."""
    if not principal.sees(body.site):
        raise NotFound(f"site {body.site!r} not found")
    part = service.create_part(
        session=session,
        site_id=body.site,
        name=body.name,
        name_en=body.name_en,
        unit=body.unit,
        stock=body.stock,
        min_stock=body.min_stock,
        lead_days=body.lead_days,
        device_kind=body.device_kind,
        actor=principal.name,
        now=now,
    )
    session.commit()
    return PartOut.build(part)


@router.get("/forecast", response_model=PartForecastList)
def parts_forecast(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    now: NowDep,
    site: str | None = None,
) -> PartForecastList:
    """Daily use, run-out day and order-by day of every part; `reorder` once it has come."""
    parts = service.list_parts(session=session, site_ids=principal.site_ids, site=site)
    today = now.astimezone(settings.zone).date()
    outlooks = service.forecasts(session=session, parts=parts, now=now, today=today)
    return PartForecastList(
        items=[
            PartForecastOut(
                part_id=p.id,
                site=p.site_id,
                name=p.name,
                name_en=p.name_en,
                stock=p.stock,
                daily_use=outlooks[p.id].daily_use,
                runs_out_on=outlooks[p.id].runs_out_on,
                order_by=outlooks[p.id].order_by,
                on_order=p.on_order,
                lead_days=p.lead_days,
                reorder=outlooks[p.id].due(today),
            )
            for p in parts
        ]
    )


@router.get("/{part_id}", response_model=PartDetailOut)
def get_part(part_id: IdPath, session: SessionDep, principal: PrincipalDep) -> PartDetailOut:
    """One part with its movements, newest first."""
    part = service.get_part(session=session, part_id=part_id, site_ids=principal.site_ids)
    moves = service.movements(session=session, part=part)
    return PartDetailOut(
        **PartOut.build(part).model_dump(), movements=[MovementOut.build(m) for m in moves]
    )


@router.post(
    "/{part_id}/movements", response_model=MovementOut, status_code=status.HTTP_201_CREATED
)
def move_part(
    part_id: IdPath, body: MovementIn, session: SessionDep, principal: _KeeperDep, now: NowDep
) -> MovementOut:
    """Record stock received, used on an order, ordered or corrected; never below zero."""
    part = service.get_part(session=session, part_id=part_id, site_ids=principal.site_ids)
    movement = service.move(
        session=session,
        part=part,
        delta=body.delta,
        reason=body.reason,
        actor=principal.name,
        now=now,
        note=body.note,
        work_order_id=body.work_order_id,
    )
    session.commit()
    return MovementOut.build(movement)
