"""`/desk`: the ledger entry with what the hub already knows, replies checked as typed,
the queue of orders the sensors opened, callbacks due, repeats flagged.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dashboards.api import ApiError
from dashboards.auth import WebUser, checked_form, current_user
from dashboards.common import refusal, running_deadline, seconds_left, site_of
from dashboards.ledger import left_text
from dashboards.render import PageError, check_query, render
from hub.api.params import IdPath
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
    by_id = {c["id"]: c for c in complaints}
    callbacks: list[dict[str, Any]] = []
    for o in resolved:
        due = o.get("due", {}).get("callback")
        if due and not due.get("met_at"):
            callbacks.append(
                await _callback(
                    user, now, due, order=o, owners=o.get("complaint_ids", []), by_id=by_id
                )
            )
    for c in complaints:
        due = c.get("due", {}).get("callback")
        if due and not due.get("met_at") and c["status"] in ("resolved", "callback"):
            order = None
            if c["work_order_ids"]:
                order = await user.api.get_or_none(f"/work-orders/{c['work_order_ids'][-1]}")
            callbacks.append(
                await _callback(user, now, due, order=order, owners=[c["id"]], by_id=by_id, case=c)
            )
    callbacks.sort(key=lambda c: c["left"])
    return {"queue": queue, "callbacks": callbacks, "complaints": complaints[:30]}


async def _callback(
    user: WebUser,
    now: datetime,
    due: dict[str, Any],
    *,
    order: dict[str, Any] | None,
    owners: list[int],
    by_id: dict[int, dict[str, Any]],
    case: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A callback due: whom to call (name, phone, unit), about what, and the time left."""
    people = []
    for cid in owners:
        c = by_id.get(cid) or await user.api.get_or_none(f"/complaints/{cid}")
        if c is not None:
            people.append(
                {
                    "complaint": c["id"],
                    "name": c["complainant"]["name"],
                    "phone": c["complainant"]["phone"],
                    "unit": c.get("unit"),
                    "unit_text": c.get("unit_text"),
                }
            )
    return {
        "what": "complaint" if case else "work_order",
        "id": case["id"] if case else order["id"] if order else 0,
        "title": case["content"][:60] if case else order["title"] if order else "",
        "title_en": "" if case else order.get("title_en", "") if order else "",
        "order": order,
        "people": people,
        "due_at": due["due_at"],
        "left": seconds_left(due["due_at"], now),
    }


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
        left_text=left_text,
        **await _queue(request, user),
    )


@router.get("/desk/queue")
async def queue_fragment(request: Request) -> Response:
    """The queue and the callbacks (htmx: live refresh)."""
    check_query(request, ())
    user = await current_user(request)
    return render(
        request, "_queue.html", user=user, left_text=left_text, **await _queue(request, user)
    )


@router.get("/desk/lookup")
async def lookup(request: Request) -> Response:
    """While the clerk types: the known issue and the notices at the place named.

    The place typed, else the place the owner's words name, read by the hub as intake
    reads it; a place it does not know is said so, and nothing of the site is shown.
    """
    check_query(request, LEDGER)
    user = await current_user(request)
    q = request.query_params
    site = site_of(user, q.get("site") or None)
    place = (q.get("location") or q.get("unit") or "").strip()
    text = q.get("content", "").strip()[:10_000]
    if len(place) > 400 or "\x00" in place or "\x00" in text:
        raise PageError(422, "location: at most 400 characters")
    if site is None or not (place or text):
        return render(request, "_lookup.html", user=user, known=None, place=None)
    try:
        known = await user.api.get(
            "/known-issues", site=site, location=place or None, text=None if place else text
        )
    except ApiError as exc:
        raise refusal(exc) from exc
    return render(request, "_lookup.html", user=user, known=known, place=place or known["location"])


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


PHONE = re.compile(r"^[0-9 +()/.-]*$")


def ledger_problem(form: dict[str, str]) -> str | None:
    """What is wrong with the typed ledger entry, in words the desk reads (or None)."""
    if not form.get("content", "").strip():
        return "Write what the owner says."
    if not PHONE.match(form.get("complainant_phone", "")):
        return "A phone number holds digits, spaces and + ( ) - only."
    if len(form.get("complainant_phone", "")) > 32:
        return "A phone number is at most 32 characters."
    for field in ("unit", "location"):
        if len(form.get(field, "")) > 400:
            return "A unit or place is at most 400 characters."
    if len(form.get("complainant_name", "")) > 128:
        return "A name is at most 128 characters."
    return None


@router.post("/desk/complaints")
async def intake(request: Request) -> Response:
    """Register the ledger entry; answers what the hub made of it."""
    check_query(request, ())
    user = await current_user(request)
    try:
        form = await checked_form(request, user)
    except PageError as exc:
        if exc.status != 422:
            raise
        unstorable = "The form holds characters that cannot be stored; retype it."
        return render(
            request, "_intake.html", status=422, user=user, error=unstorable, complaint=None
        )
    if (problem := ledger_problem(form)) is not None:
        return render(request, "_intake.html", status=422, user=user, error=problem, complaint=None)
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
