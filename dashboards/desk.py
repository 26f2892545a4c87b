"""`/desk`: the ledger entry with what the hub already knows, replies checked as typed,
the queue of orders the sensors opened, callbacks due, repeats flagged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dashboards.api import ApiError
from dashboards.auth import WebUser, checked_form, current_user
from dashboards.common import refusal, running_deadline, seconds_left, site_of
from dashboards.render import PageError, check_query, render
from hub.api.params import IdPath
from hub.complaints.classify import location_from_text
from hub.complaints.enums import Channel, Kind

router = APIRouter(include_in_schema=False)

LEDGER = (
    "content",
    "site",
    "unit",
    "location",
    "channel",
    "kind",
    "complainant_name",
    "complainant_phone",
    "request",
    "target_department",
    "received_at",
)
"""The ledger's fields (DOMAIN.md, "Recording a complaint"), as `POST /complaints` names them."""
QUEUED = ("open", "dispatched", "on_site", "on_hold")


async def _queue(request: Request, user: WebUser) -> dict[str, Any]:
    """The sensors' orders being worked, and the callbacks due, soonest first."""
    now = request.app.state.clock.now()
    orders = await user.api.get("/work-orders", source="sensor", status=list(QUEUED), limit=100)
    queue = []
    for o in orders:
        deadline = running_deadline(o)
        queue.append(
            {
                **o,
                "deadline": deadline,
                "left": seconds_left(deadline["due_at"], now) if deadline else None,
            }
        )
    resolved = await user.api.get("/work-orders", status=["resolved"], limit=100)
    complaints = await user.api.get("/complaints", limit=100)
    callbacks: list[dict[str, Any]] = []
    for o in resolved:
        due = o.get("due", {}).get("callback")
        if due and not due.get("met_at"):
            callbacks.append(
                {
                    "what": "work_order",
                    "id": o["id"],
                    "title": o["title"],
                    "title_en": o.get("title_en", ""),
                    "due_at": due["due_at"],
                    "left": seconds_left(due["due_at"], now),
                }
            )
    for c in complaints:
        due = c.get("due", {}).get("callback")
        if due and not due.get("met_at") and c["status"] in ("resolved", "callback"):
            callbacks.append(
                {
                    "what": "complaint",
                    "id": c["id"],
                    "title": c["content"][:60],
                    "due_at": due["due_at"],
                    "left": seconds_left(due["due_at"], now),
                }
            )
    callbacks.sort(key=lambda c: c["left"])
    return {"queue": queue, "callbacks": callbacks, "complaints": complaints[:30]}


@router.get("/desk")
async def desk_page(request: Request) -> Response:
    """The desk's page."""
    check_query(request, ())
    user = await current_user(request)
    return render(
        request,
        "desk.html",
        user=user,
        channels=list(Channel),
        kinds=list(Kind),
        now_local=request.app.state.clock.now().astimezone(request.app.state.settings.zone),
        **await _queue(request, user),
    )


@router.get("/desk/queue")
async def queue_fragment(request: Request) -> Response:
    """The queue and the callbacks (htmx: live refresh)."""
    check_query(request, ())
    user = await current_user(request)
    return render(request, "_queue.html", user=user, **await _queue(request, user))


@router.get("/desk/lookup")
async def lookup(request: Request) -> Response:
    """While the clerk types: the known issue and the notices at the place named."""
    check_query(request, LEDGER)
    user = await current_user(request)
    q = request.query_params
    site = site_of(user, q.get("site") or None)
    place = (q.get("location") or q.get("unit") or "").strip()
    read_from = None
    if not place:
        found = location_from_text(q.get("content", "")[:10_000])
        if found:
            place, read_from = found
    if len(place) > 400 or "\x00" in place:
        raise PageError(422, "location: at most 400 characters")
    if site is None:
        return render(request, "_lookup.html", user=user, known=None, place=None)
    try:
        known = await user.api.get("/known-issues", site=site, location=place or None)
    except ApiError as exc:
        raise refusal(exc) from exc
    return render(request, "_lookup.html", user=user, known=known, place=place, read_from=read_from)


def _ledger(form: dict[str, str], zone: Any) -> dict[str, Any]:
    body: dict[str, Any] = {k: v.strip() for k, v in form.items() if k in LEDGER and v.strip()}
    when = body.pop("received_at", None)
    if when:
        try:
            at = datetime.fromisoformat(when)
        except ValueError as exc:
            raise PageError(422, "received_at: a date and time") from exc
        body["received_at"] = (at if at.tzinfo else at.replace(tzinfo=zone)).isoformat()
    return body


@router.post("/desk/complaints")
async def intake(request: Request) -> Response:
    """Register the ledger entry; answers what the hub made of it."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    body = _ledger(form, request.app.state.settings.zone)
    try:
        complaint = await user.api.post("/complaints", body)
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        return render(
            request,
            "_intake.html",
            status=exc.status,
            user=user,
            error=exc.message,
            code=exc.code,
            complaint=None,
        )
    return render(request, "_intake.html", user=user, complaint=complaint, error=None)


@router.post("/desk/phrase-check")
async def phrase_check(request: Request) -> Response:
    """The reply box, checked as it is typed (the desk's forbidden phrases)."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    text = form.get("text", "").strip()
    warnings: list[dict[str, Any]] = []
    if text:
        try:
            warnings = await user.api.post("/complaints/phrase-check", {"text": text[:10_000]})
        except ApiError as exc:
            raise refusal(exc) from exc
    return render(request, "_phrases.html", user=user, warnings=warnings, checked=bool(text))


@router.post("/desk/complaints/{complaint_id}/replies")
async def reply(request: Request, complaint_id: IdPath) -> Response:
    """Record the reply given to the owner."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    body = {"text": form.get("text", ""), "channel": form.get("channel") or "phone"}
    try:
        answer = await user.api.post(f"/complaints/{complaint_id}/replies", body)
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        return render(
            request,
            "_replied.html",
            status=exc.status,
            user=user,
            error=exc.message,
            code=exc.code,
            answer=None,
        )
    return render(request, "_replied.html", user=user, answer=answer, error=None)
