"""Forecast pages: a device's forecast line, `/forecasts` (running out soon), `/parts`.

The device page shows each forecast quantity's level, the projected line to its run-out
with the band between the earliest and latest run-out, and the run-out time (an inline SVG
drawn here, nothing from outside). `/forecasts` lists what runs out within a day, soonest
first, for cleaning (dispensers) and engineering (batteries); `/parts` the parts store with
each part's forecast, its reorder and its latest movements, for managers and engineers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dashboards.api import ApiError
from dashboards.auth import WebUser, current_user
from dashboards.common import refusal, site_of
from dashboards.render import PageError, check_query, parse_time, render

router = APIRouter(include_in_schema=False)

SOON = timedelta(hours=24)
"""What `/forecasts` calls running out soon."""
WIDTH, HEIGHT = 600.0, 120.0


def _x(at: datetime, start: datetime, end: datetime) -> float:
    span = max((end - start).total_seconds(), 1.0)
    return round(WIDTH * min(max((at - start).total_seconds() / span, 0.0), 1.0), 1)


def _y(level: float) -> float:
    return round(HEIGHT * (1 - min(max(level, 0.0), 100.0) / 100), 1)


def line_of(item: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The SVG of a forecast: the projected line from now to the run-out, and its band."""
    runs_out = parse_time(item.get("runs_out_at"))
    level = item.get("level")
    if runs_out is None or level is None or runs_out <= now:
        return None
    earliest = parse_time(item.get("earliest")) or runs_out
    latest = parse_time(item.get("latest")) or runs_out
    end = max(latest, runs_out) + (max(latest, runs_out) - now) * 0.05
    x0, y0 = 0.0, _y(float(level))
    bottom = HEIGHT
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "line": f"{x0},{y0} {_x(runs_out, now, end)},{bottom}",
        "band": f"{x0},{y0} {_x(earliest, now, end)},{bottom} {_x(latest, now, end)},{bottom}",
        "out_x": _x(runs_out, now, end),
    }


async def device_forecasts(user: WebUser, device_id: str, now: datetime) -> list[dict[str, Any]]:
    """The device's forecasts with their lines (none for a kind that is not forecast)."""
    body = await user.api.get_or_none("/forecasts", device_id=device_id)
    items: list[dict[str, Any]] = (body or {}).get("items", [])
    return [item | {"svg": line_of(item, now)} for item in items]


@router.get("/forecasts")
async def soon_page(request: Request) -> Response:
    """What runs out within a day: dispensers for cleaning, batteries for engineering."""
    check_query(request, {"site"})
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    now = request.app.state.clock.now()
    try:
        body = await user.api.get("/forecasts", site=site)
    except ApiError as exc:
        raise refusal(exc) from exc
    soon: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for item in body["items"]:
        runs_out = parse_time(item.get("runs_out_at"))
        if runs_out is None:
            continue
        (soon if runs_out - now <= SOON else later).append(item)
    return render(
        request,
        "forecasts.html",
        user=user,
        site=site,
        soon=soon,
        later=later[:50],
        quiet=[i for i in body["items"] if i["outlook"] in ("stuck", "silent", "noisy")],
    )


@router.get("/parts")
async def parts_page(request: Request) -> Response:
    """The parts store: stock, on order, daily use, run-out, order-by, latest movements."""
    check_query(request, {"site"})
    user = await current_user(request)
    if user.role not in ("manager", "engineer", "admin"):
        raise PageError(403, "the parts store is for managers and engineers")
    site = site_of(user, request.query_params.get("site"))
    try:
        parts = (await user.api.get("/parts", site=site))["items"]
        forecast = {
            f["part_id"]: f for f in (await user.api.get("/parts/forecast", site=site))["items"]
        }
        history = {
            p["id"]: (await user.api.get(f"/parts/{p['id']}"))["movements"][:8] for p in parts
        }
    except ApiError as exc:
        raise refusal(exc) from exc
    rows = [p | {"forecast": forecast.get(p["id"]), "history": history[p["id"]]} for p in parts]
    return render(request, "parts.html", user=user, site=site, parts=rows)
