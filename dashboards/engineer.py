"""`/engineer`: devices by building › floor, alarms, a device's signals, my orders.

Phone first: one column on a narrow screen, tiles that read without colour (an icon and a
word for each status). With thousands of devices the grid shows one building at a time.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from dashboards.api import ApiError
from dashboards.auth import WebUser, checked_form, current_user
from dashboards.common import moves_for, refusal, running_deadline, seconds_left, site_of
from dashboards.forecasts import device_forecasts
from dashboards.render import PageError, check_query, parse_time, render
from hub.access import DEPARTMENT_OF
from hub.api.deps import SessionDep
from hub.api.params import SLUG, DeviceIdPath, IdPath
from hub.auth.enums import Role
from hub.registry.service import top_locations

router = APIRouter(include_in_schema=False)

ACTIVE = ("open", "dispatched", "on_site", "on_hold", "resolved", "callback")
KINDS = ("light", "leak", "restroom", "gate")
STATUSES = ("online", "late", "offline", "alarm")
GRID_QUERY = {"site", "building", "floor", "kind", "status"}
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
SERIES = {
    "light": ("on", "power_w", "lux"),
    "leak": ("leak", "flow_lpm", "pressure_kpa", "battery"),
    "restroom": ("paper_pct", "soap_pct", "towel_pct"),
    "gate": ("arm", "loop_occupied"),
}
"""What a device's chart draws, per kind (booleans and the arm as 0/1 steps)."""


def _filters(request: Request, user: WebUser, buildings: list[dict[str, str]]) -> dict[str, Any]:
    q = request.query_params
    check_query(request, GRID_QUERY)
    site = site_of(user, q.get("site"))
    codes = [b["code"] for b in buildings]
    building = q.get("building") or (codes[0] if codes else None)
    if building is not None and building not in codes:
        raise PageError(404, "no such building")
    floor = q.get("floor") or None
    if floor is not None and (len(floor) > 64 or "/" in floor or "\x00" in floor):
        raise PageError(422, "floor: one location code")
    kind = q.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise PageError(422, "kind: one of these", what=", ".join(KINDS))
    status = q.get("status") or None
    if status is not None and status not in STATUSES:
        raise PageError(422, "status: one of these", what=", ".join(STATUSES))
    return {"site": site, "building": building, "floor": floor, "kind": kind, "status": status}


async def _grid(user: WebUser, f: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The devices of one building (or one floor of it), floor by floor."""
    location = f["building"] if not f["floor"] else f"{f['building']}/{f['floor']}"
    status = f["status"] if f["status"] != "alarm" else None
    devices = await user.api.get(
        "/devices", site=f["site"], location=location, kind=f["kind"], status=status
    )
    if f["status"] == "alarm":
        devices = [d for d in devices if d["active_alarms"]]
    floors: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in devices:
        parts = (d["location"] or "").split("/")
        floors[parts[1] if len(parts) > 1 else "—"].append(d)
    return sorted(
        floors.items(),
        key=lambda kv: (not kv[0].isdigit(), -int(kv[0]) if kv[0].isdigit() else 0, kv[0]),
    )


async def _buildings(session: SessionDep, user: WebUser, site: str | None) -> list[dict[str, str]]:
    """The top places of the user's sites (the grid's pages) with their names, read off the
    event loop."""
    sites = frozenset([site] if site else user.sites)

    def read() -> list[dict[str, str]]:
        codes = [
            {"code": loc.code, "name": loc.name, "name_en": loc.name_en}
            for loc in top_locations(session=session, site_ids=sites)
        ]
        # End the read at once: SQLite begins every transaction as a writer, and the API
        # calls that follow take sessions of their own.
        session.commit()
        return codes

    return await to_thread.run_sync(read)


@router.get("/engineer")
async def engineer_page(request: Request, session: SessionDep) -> Response:
    """The engineer's page: the grid, the alarms, my orders."""
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    buildings = await _buildings(session, user, site)
    f = _filters(request, user, buildings)
    return render(
        request,
        "engineer.html",
        user=user,
        f=f,
        buildings=buildings,
        kinds=KINDS,
        statuses=STATUSES,
        floors=await _grid(user, f),
        building=next((b for b in buildings if b["code"] == f["building"]), None),
        alarms=await _alarms(user, f["site"]),
        **await _orders(request, user),
    )


@router.get("/engineer/grid")
async def grid_fragment(request: Request, session: SessionDep) -> Response:
    """The grid alone (htmx: filters and live refresh)."""
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    buildings = await _buildings(session, user, site)
    f = _filters(request, user, buildings)
    response = render(
        request,
        "_grid.html",
        user=user,
        f=f,
        floors=await _grid(user, f),
        building=next((b for b in buildings if b["code"] == f["building"]), None),
    )
    # The address bar keeps the filters, so a reload (or a shared link) shows the same grid.
    query = urlencode({k: v for k, v in f.items() if v})
    response.headers["HX-Replace-Url"] = f"/engineer?{query}" if query else "/engineer"
    return response


async def _alarms(user: WebUser, site: str | None, device: str | None = None) -> Any:
    return await user.api.get("/alarms", site=site, device_id=device, limit=200)


@router.get("/engineer/alarms")
async def alarms_fragment(request: Request) -> Response:
    """Active alarms (htmx: live refresh)."""
    check_query(request, {"site"})
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    return render(request, "_alarms.html", user=user, alarms=await _alarms(user, site))


@router.post("/engineer/alarms/{alarm_id}/ack")
async def ack(request: Request, alarm_id: IdPath) -> Response:
    """Acknowledge an alarm; answers the refreshed alarm list."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    note = form.get("note") or None
    device = form.get("device") or None
    if device is not None and not re.fullmatch(SLUG, device):
        raise PageError(422, "device: a device id")
    try:
        await user.api.post(f"/alarms/{alarm_id}/ack", {"note": note} if note else None)
    except ApiError as exc:
        raise refusal(exc) from exc
    alarms = await _alarms(user, None, device)
    return render(request, "_alarms.html", user=user, alarms=alarms, device=device)


def _mine(user: WebUser, order: dict[str, Any]) -> bool:
    """Orders of my department or assigned to me; the desk and managers see them all."""
    own = DEPARTMENT_OF.get(Role(user.role))
    if own is None:
        return True
    return bool(order["department"] == own or order["assignee"] == user.name)


async def _orders(request: Request, user: WebUser) -> dict[str, Any]:
    """My orders: those given to me by name first, then by the next deadline."""
    orders = await user.api.get("/work-orders", status=list(ACTIVE), limit=200)
    alarms = await _alarms(user, None)
    standing: dict[int, int] = defaultdict(int)
    for a in alarms:
        if a.get("work_order_id") and not a.get("cleared_at"):
            standing[a["work_order_id"]] += 1
    now = request.app.state.clock.now()
    mine = []
    for o in orders:
        if not _mine(user, o):
            continue
        deadline = running_deadline(o)
        left = seconds_left(deadline["due_at"], now) if deadline else None
        # The next step of the work first and largest; holding or cancelling after it.
        moves = sorted(moves_for(o, user.role), key=lambda m: m in ("on_hold", "cancelled"))
        mine.append(
            {**o, "deadline": deadline, "left": left, "moves": moves, "standing": standing[o["id"]]}
        )
    mine.sort(key=lambda o: (o["assignee"] != user.name, o["left"] is None, o["left"] or 0))
    return {"orders": mine}


@router.get("/engineer/orders")
async def orders_fragment(request: Request) -> Response:
    """My orders (htmx: live refresh)."""
    check_query(request, ())
    user = await current_user(request)
    return render(request, "_orders.html", user=user, **await _orders(request, user))


@router.post("/engineer/orders/{order_id}/move")
async def move(request: Request, order_id: IdPath) -> Response:
    """A move of the state machine; answers my refreshed orders (or the API's refusal)."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    body: dict[str, Any] = {"to": form.get("to", ""), "note": form.get("note", "")}
    if form.get("to") == "dispatched":
        body["assignee"] = form.get("assignee") or user.name
    photos = (await request.form()).getlist("attachment_ids")
    body["attachment_ids"] = [int(p) for p in photos if isinstance(p, str) and p.isdigit()][:20]
    try:
        await user.api.post(f"/work-orders/{order_id}/transitions", body)
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        # The reason goes beside the list, where a live refresh of the list leaves it be.
        refused = render(
            request, "error.html", status=exc.status, message=exc.message, code=exc.code, what=""
        )
        refused.headers["HX-Retarget"] = "#order-error"
        refused.headers["HX-Reswap"] = "innerHTML"
        return refused
    return render(request, "_orders.html", user=user, moved=True, **await _orders(request, user))


def _series(kind: str, signals: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """The chart's points: [epoch ms, value] per field, numbers and booleans as 0/1."""
    out: dict[str, list[list[float]]] = {name: [] for name in SERIES.get(kind, ())}
    for s in signals:
        data = s.get("data") or s.get("payload") or {}
        if not isinstance(data, dict):
            continue
        ms = datetime_ms(s["ts"])
        for name in out:
            value = data.get(name)
            if name == "arm" and isinstance(value, str):
                value = {"up": 1, "down": 0, "moving": 0.5}.get(value)
            if isinstance(value, bool):
                value = int(value)
            if isinstance(value, int | float):
                out[name].append([ms, float(value)])
    return {k: v for k, v in out.items() if v}


def datetime_ms(value: Any) -> float:
    """An API time as epoch milliseconds (the chart's x)."""
    at = parse_time(value)
    return at.timestamp() * 1000 if at else 0.0


@router.get("/engineer/devices/{device_id}")
async def device_page(request: Request, device_id: DeviceIdPath) -> Response:
    """One device: its status, alarms (acknowledge) and signals over 24 h or 7 days."""
    check_query(request, {"range"})
    user = await current_user(request)
    span = request.query_params.get("range", "24h")
    if span not in RANGES:
        raise PageError(422, "range: 24h or 7d")
    now = request.app.state.clock.now()
    try:
        device = await user.api.get(f"/devices/{device_id}")
        page = await user.api.get(
            f"/devices/{device_id}/signals", since=(now - RANGES[span]).isoformat(), limit=5000
        )
    except ApiError as exc:
        raise refusal(exc) from exc
    signals = page.get("items", []) if isinstance(page, dict) else page
    series = _series(device["kind"], signals)
    return render(
        request,
        "device.html",
        user=user,
        device=device,
        span=span,
        series_json=json.dumps(series).replace("<", "\\u003c"),
        series_names=list(series),
        truncated=bool(page.get("truncated")) if isinstance(page, dict) else False,
        window_ms=[datetime_ms(now - RANGES[span]), datetime_ms(now)],
        events=[s for s in signals if s.get("channel") == "event"][-50:],
        alarms=await _alarms(user, device["site"], device_id),
        device_id=device_id,
        forecasts=await device_forecasts(user, device_id, now),
    )
