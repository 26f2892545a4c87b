"""HTTP routes of forecasts (thin)."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import PrincipalDep, SessionDep
from hub.forecasts import service
from hub.forecasts.schemas import ForecastList, ForecastOut
from hub.registry.enums import DeviceKind

router = APIRouter(prefix="/forecasts", tags=["forecasts"])


@router.get("", response_model=ForecastList)
def list_forecasts(
    session: SessionDep,
    principal: PrincipalDep,
    site: str | None = None,
    kind: DeviceKind | None = None,
    device_id: str | None = None,
) -> ForecastList:
    """Forecasts of the caller's sites (dispenser levels, batteries), soonest run-out first."""
    rows = service.list_forecasts(
        session=session, site_ids=principal.site_ids, site=site, kind=kind, device_id=device_id
    )
    orders = service.orders_of(session=session, rows=rows)
    return ForecastList(
        items=[ForecastOut.build(r, orders.get((r.device_id, r.quantity))) for r in rows]
    )
