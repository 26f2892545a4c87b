"""Field staff's pages: `/dispatch` (heads and managers), `/patrol` and a checkpoint's entry
form (cleaners, guards, engineers), and the photos they take (`/photos`).

Everything goes through the API as the signed-in user; a photo is handed on to
`POST /api/v1/attachments` as it streams in, so its 10 MB limit holds here too.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from dashboards import i18n
from dashboards.api import ApiError
from dashboards.auth import WebUser, checked_form, current_user
from dashboards.common import refusal, site_of
from dashboards.render import PageError, check_query, parse_time, render
from hub.api.params import IdPath
from hub.inspections import qrsheet
from hub.inspections.enums import STATES_OF, Item, State
from hub.registry.places import place_text

router = APIRouter(include_in_schema=False)

STATE_ORDER = (State.ok, State.low, State.empty, State.fault)
LEVEL_OF = {"paper": "paper_pct", "soap": "soap_pct", "towel": "towel_pct"}


# --- dispatch -------------------------------------------------------------------------


async def _board(user: WebUser, site: str | None) -> dict[str, Any]:
    try:
        board = await user.api.get("/work-orders/dispatch", site=site)
    except ApiError as exc:
        raise refusal(exc) from exc
    return {"board": board}


@router.get("/dispatch")
async def dispatch_page(request: Request) -> Response:
    """Open orders by department beside the technicians, each with an assign form."""
    check_query(request, {"site"})
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    return render(request, "dispatch.html", user=user, site=site, **await _board(user, site))


@router.get("/dispatch/board")
async def dispatch_board(request: Request) -> Response:
    """The boards alone (htmx: live refresh)."""
    check_query(request, {"site"})
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    return render(request, "_board.html", user=user, site=site, **await _board(user, site))


@router.post("/dispatch/orders/{order_id}/assign")
async def assign(request: Request, order_id: IdPath) -> Response:
    """Give an order to a technician; answers the refreshed boards (or why not)."""
    check_query(request, {"site"})
    user = await current_user(request)
    form = await checked_form(request, user)
    site = site_of(user, request.query_params.get("site"))
    body = {"assignee": form.get("assignee", ""), "note": form.get("note", "")}
    try:
        await user.api.post(f"/work-orders/{order_id}/assign", body)
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        refused = render(request, "error.html", status=exc.status, message=exc.message)
        refused.headers["HX-Retarget"] = "#board-error"
        refused.headers["HX-Reswap"] = "innerHTML"
        return refused
    board = await _board(user, site)
    return render(request, "_board.html", user=user, site=site, assigned=order_id, **board)


# --- patrol ---------------------------------------------------------------------------


def _place(checkpoint: dict[str, Any], lang: str) -> str:
    """Where a checkpoint is, as people say it (a device's place, else its name)."""
    zh, en = place_text(checkpoint.get("location") or checkpoint.get("device_location"))
    name = zh if lang == "zh" else en
    return name or checkpoint.get("device_name") or checkpoint.get("device_id") or ""


async def _routes(user: WebUser) -> list[dict[str, Any]]:
    """The active routes of the user's sites; a checkpoint at a device learns its place."""
    routes: list[dict[str, Any]] = await user.api.get("/inspections/routes")
    devices: dict[str, Any] = {}
    for route in routes:
        for c in route["checkpoints"]:
            if c.get("device_id") and not c.get("location"):
                if c["device_id"] not in devices:
                    devices[c["device_id"]] = await user.api.get_or_none(
                        f"/devices/{c['device_id']}"
                    )
                device = devices[c["device_id"]] or {}
                c["device_location"] = device.get("location")
                c["device_name"] = device.get("name")
    return [r for r in routes if r["active"]]


@router.get("/patrol")
async def patrol_page(request: Request) -> Response:
    """Today's rounds of the user's routes: their checkpoints, what is walked, the deadline."""
    check_query(request, ())
    user = await current_user(request)
    routes = await _routes(user)
    due = await user.api.get("/inspections/rounds", status=["due"], limit=200)
    current = {r["route_id"]: r for r in due}
    now = request.app.state.clock.now()
    lang = i18n.language(request)
    shown = []
    for route in routes:
        walked = set(current.get(route["id"], {}).get("visited", []))
        round_ = current.get(route["id"])
        due_at = parse_time(round_["due_at"]) if round_ else None
        shown.append(
            {
                **route,
                "round": round_,
                "overdue": bool(due_at and due_at < now),
                "stops": [
                    {**c, "walked": c["id"] in walked, "place": _place(c, lang)}
                    for c in route["checkpoints"]
                ],
            }
        )
    return render(request, "patrol.html", user=user, routes=shown)


async def _checkpoint(user: WebUser, checkpoint_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    for route in await _routes(user):
        for checkpoint in route["checkpoints"]:
            if checkpoint["id"] == checkpoint_id:
                return route, checkpoint
    raise PageError(404, f"checkpoint {checkpoint_id} not found")


def _items(checkpoint: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name in checkpoint["items"]:
        allowed = STATES_OF.get(Item(name), frozenset(State))
        out.append({"item": name, "states": [s.value for s in STATE_ORDER if s in allowed]})
    return out


@router.get("/patrol/checkpoints/{checkpoint_id}")
async def checkpoint_page(request: Request, checkpoint_id: IdPath) -> Response:
    """A checkpoint's entry form: the URL its QR code carries (opened so, it is `scanned`)."""
    check_query(request, {"via"})
    user = await current_user(request)
    route, checkpoint = await _checkpoint(user, checkpoint_id)
    return render(
        request,
        "checkpoint.html",
        user=user,
        route=route,
        checkpoint=checkpoint,
        place=_place(checkpoint, i18n.language(request)),
        items=_items(checkpoint),
        scanned=request.query_params.get("via") != "list",
    )


def _contradictions(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """What the sensors said against the entry, as the page words it."""
    out = []
    for d in entry["discrepancies"]:
        field = LEVEL_OF.get(d["item"])
        empty = [e["at"] for e in d["evidence"] if field and e["values"].get(field) in (0, 0.0)]
        last = d["evidence"][-1]["values"].get(field) if d["evidence"] and field else None
        out.append(
            {
                "item": d["item"],
                "claimed": d["claimed"],
                "device_id": d["device_id"],
                "empty_since": min(empty) if empty else None,
                "level": last,
                "at": d["at"],
            }
        )
    return out


async def _entry_body(
    request: Request, user: WebUser, checkpoint: dict[str, Any], route: dict[str, Any]
) -> dict[str, Any]:
    form = await checked_form(request, user)
    raw = await request.form()
    photos = [v for v in raw.getlist("attachment_ids") if isinstance(v, str) and v.isdigit()]
    note = form.get("note", "").strip()
    items = []
    for item in _items(checkpoint):
        state = form.get(f"state_{item['item']}", "")
        if state not in item["states"]:
            raise PageError(422, f"{item['item']}: choose its state")
        items.append({"item": item["item"], "state": state, "note": ""})
    if note:
        worst = next((i for i in items if i["state"] != "ok"), items[0])
        worst["note"] = note[:2000]
    now: datetime = request.app.state.clock.now()
    body: dict[str, Any] = {
        "site": route["site"],
        "inspector": user.name,
        "observed_at": now.isoformat(),
        "items": items,
        "route": route["id"],
        "attachment_ids": [int(p) for p in photos][:20],
        "scanned": form.get("scanned") == "1",
    }
    if checkpoint.get("device_id"):
        body["device_id"] = checkpoint["device_id"]
    else:
        body["location"] = checkpoint["location"]
    return body


@router.post("/patrol/checkpoints/{checkpoint_id}")
async def inspect(request: Request, checkpoint_id: IdPath) -> Response:
    """Record the checkpoint's entry; answers the verdict at once (the sensors' cross-check)."""
    check_query(request, {"via"})
    user = await current_user(request)
    route, checkpoint = await _checkpoint(user, checkpoint_id)
    body = await _entry_body(request, user, checkpoint, route)
    try:
        entry = await user.api.post("/inspections", body)
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        return render(request, "error.html", status=exc.status, message=exc.message)
    return render(
        request,
        "_verdict.html",
        user=user,
        entry=entry,
        contradictions=_contradictions(entry),
    )


@router.get("/patrol/routes/{route_id}/qr.pdf")
async def qr_sheet(request: Request, route_id: IdPath) -> Response:
    """The route's QR sheet, its codes opening this hub's checkpoint pages."""
    check_query(request, ())
    user = await current_user(request)
    route = next((r for r in await _routes(user) if r["id"] == route_id), None)
    if route is None:
        raise PageError(404, f"route {route_id} not found")
    stops = [(c["id"], c["location"], c["device_id"]) for c in route["checkpoints"]]
    pdf = qrsheet.sheet(route["name"], qrsheet.labels_for(str(request.base_url), stops))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="route-{route_id}-qr.pdf"'},
    )


# --- photos ---------------------------------------------------------------------------


@router.post("/photos")
async def upload_photo(request: Request) -> Response:
    """A photo from the phone's camera, handed on to the API as it streams in (JSON answer)."""
    check_query(request, ())
    user = await current_user(request)
    if user.csrf is not None:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent, user.csrf):
            return JSONResponse({"error": {"message": "stale form: reload the page"}}, 403)
    response = await user.api.forward(
        "POST",
        "/attachments",
        content=request.stream(),
        content_type=request.headers.get("content-type"),
    )
    return Response(
        response.content, status_code=response.status_code, media_type="application/json"
    )


async def _photo(request: Request, path: str) -> Response:
    check_query(request, ())
    user = await current_user(request)
    response = await user.api.forward("GET", path)
    if response.status_code != 200:
        raise PageError(response.status_code if response.status_code < 500 else 502, "no photo")
    return Response(
        response.content,
        media_type=response.headers.get("content-type", "image/jpeg"),
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/photos/{attachment_id}/thumbnail")
async def photo_thumbnail(request: Request, attachment_id: IdPath) -> Response:
    """A photo's thumbnail, for the pages (same site only, as the API answers)."""
    return await _photo(request, f"/attachments/{attachment_id}/thumbnail")


@router.get("/photos/{attachment_id}")
async def photo(request: Request, attachment_id: IdPath) -> Response:
    """A photo as it was taken."""
    return await _photo(request, f"/attachments/{attachment_id}")
