"""`/desk/complaints`: the ledger (search, filters, pages, export) and one complaint from
receipt to archive (its moves as buttons, replies, a work order, the callback)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from fastapi import APIRouter, Request
from openpyxl import Workbook
from starlette.responses import RedirectResponse, Response

from dashboards import i18n
from dashboards.api import ApiError
from dashboards.auth import WebUser, checked_form, current_user
from dashboards.common import refusal, seconds_left
from dashboards.render import PageError, check_query, render
from hub.api.params import IdPath
from hub.auth.enums import Role
from hub.complaints.enums import (
    CallbackOutcome,
    Category,
    Channel,
    ReplyPurpose,
    Responsibility,
    Status,
)
from hub.complaints.workflow import MOVES
from hub.workorders.enums import Department, Priority

router = APIRouter(include_in_schema=False)

PAGE = 50
FILTERS = ("q", "phone", "unit", "status", "category", "responsibility", "channel")
PERIOD = ("since", "until")
"""Days (YYYY-MM-DD, local) the ledger's period runs from and to (inclusive)."""
EXPORT_ROWS = 5000
NOTED = frozenset({"on_hold", "withdrawn", "archived", "implementing", "remedy_proposed"})
"""Moves whose form carries a note (a reason, the owner's objection, what is still wrong)."""


def left_text(seconds: int, lang: str) -> str:
    """Time left as people read it: 还剩1小时5分 / 1 h 5 min left; 已超时20分 / 20 min overdue."""
    late = seconds < 0
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分"]
        amount = "".join(p for p in parts if p) if (days or hours) else f"{mins}分钟"
        if (days or hours) and not mins:
            amount = amount.removesuffix("0分")
        return f"已超时{amount}" if late else f"还剩{amount}"
    bits = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min"]
    if (days or hours) and not mins:
        bits[-1] = ""
    amount = " ".join(b for b in bits if b)
    return f"{amount} overdue" if late else f"{amount} left"


def _day(value: str, field: str, zone: Any, *, end: bool) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise PageError(422, f"{field}: a date (YYYY-MM-DD)") from exc
    start = datetime.combine(day, time(0), tzinfo=zone)
    return (start + timedelta(days=1) if end else start).isoformat()


def _query(request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's query for the ledger's filters, and the filters as typed (for the form)."""
    check_query(request, (*FILTERS, *PERIOD, "page", "format"))
    typed = {k: v.strip() for k, v in request.query_params.items() if k != "lang" and v.strip()}
    params: dict[str, Any] = {k: typed[k] for k in FILTERS if k in typed}
    zone = request.app.state.settings.zone
    if "since" in typed:
        params["since"] = _day(typed["since"], "since", zone, end=False)
    if "until" in typed:
        params["until"] = _day(typed["until"], "until", zone, end=True)
    return params, typed


def _page_number(typed: dict[str, str]) -> int:
    raw = typed.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise PageError(422, "page: a number from 1")
    return int(raw)


def _unit_of(c: dict[str, Any]) -> str:
    return str(c.get("unit") or c.get("unit_text") or c.get("location") or "")


@router.get("/desk/complaints")
async def ledger(request: Request) -> Response:
    """The ledger: newest first, searched and filtered, a page at a time."""
    user = await current_user(request)
    params, typed = _query(request)
    page = _page_number(typed)
    rows: list[dict[str, Any]] = []
    error = None
    status = 200
    try:
        rows = await user.api.get(
            "/complaints", **params, brief="true", limit=PAGE + 1, offset=(page - 1) * PAGE
        )
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        error, status = exc.message, exc.status
    more = len(rows) > PAGE
    query = [(k, v) for k, v in typed.items() if k != "page"]
    return render(
        request,
        "ledger.html",
        status=status,
        user=user,
        rows=rows[:PAGE],
        unit_of=_unit_of,
        typed=typed,
        page=page,
        more=more,
        query=query,
        error=error,
        statuses=list(Status),
        categories=list(Category),
        responsibilities=list(Responsibility),
        channels=list(Channel),
    )


EXPORT_COLUMNS = (
    ("id", "No."),
    ("received_at", "Received"),
    ("status", "Status"),
    ("channel", "Channel"),
    ("name", "Complainant"),
    ("phone", "Phone"),
    ("unit", "Unit"),
    ("category", "Category"),
    ("responsibility", "Responsibility"),
    ("content", "What the owner says"),
    ("repeat_of", "Repeat of"),
    ("escalated", "Escalated"),
    ("satisfaction", "Satisfaction"),
)


def _export_row(c: dict[str, Any], tr: Any, zone: Any) -> list[Any]:
    received = datetime.fromisoformat(c["received_at"]).astimezone(zone)
    return [
        c["id"],
        received.strftime("%Y-%m-%d %H:%M"),
        tr.gettext(c["status"]),
        tr.gettext("channel:" + c["channel"]),
        c["complainant"]["name"],
        c["complainant"]["phone"] or "",
        _unit_of(c),
        tr.gettext(c["classification"]["category"]),
        tr.gettext(c["classification"]["responsibility"]),
        c["content"],
        c["repeat_of"] or "",
        tr.gettext("yes") if c["escalated_at"] else "",
        c.get("satisfaction") or "",
    ]


@router.get("/desk/complaints/export")
async def export(request: Request) -> Response:
    """The filtered ledger as CSV (UTF-8 with BOM, for spreadsheets) or XLSX."""
    user = await current_user(request)
    params, typed = _query(request)
    kind = typed.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        raise PageError(422, "format: csv or xlsx")
    try:
        rows = await user.api.get("/complaints", **params, brief="true", limit=500)
        offset = 500
        while len(rows) == offset and offset < EXPORT_ROWS:
            rows += await user.api.get(
                "/complaints", **params, brief="true", limit=500, offset=offset
            )
            offset += 500
    except ApiError as exc:
        raise refusal(exc) from exc
    tr = i18n.translations(i18n.language(request))
    zone = request.app.state.settings.zone
    header = [tr.gettext(title) for _key, title in EXPORT_COLUMNS]
    table = [_export_row(c, tr, zone) for c in rows]
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(table)
        body = ("\ufeff" + out.getvalue()).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(header)
        for row in table:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        body = buffer.getvalue()
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="complaints.{kind}"'},
    )


def complaint_moves(status: str, role: str) -> list[str]:
    """The moves the workflow lets this role take from the complaint's state."""
    out = []
    for target in MOVES.targets(status):
        if MOVES.may(MOVES.edge(cast(Any, None), status, target), Role(role)):
            out.append(target)
    return out


async def _history(user: WebUser, c: dict[str, Any]) -> list[dict[str, Any]]:
    """The owner's earlier complaints: the same phone, else the same unit."""
    found: dict[int, dict[str, Any]] = {}
    phone = c["complainant"]["phone"]
    unit = c.get("unit") or c.get("unit_text")
    if phone:
        for other in await user.api.get("/complaints", phone=phone, limit=20):
            found[other["id"]] = other
    if unit:
        for other in await user.api.get("/complaints", unit=unit, limit=20):
            found[other["id"]] = other
    found.pop(c["id"], None)
    return sorted(found.values(), key=lambda o: o["id"], reverse=True)[:10]


async def _detail(
    request: Request,
    user: WebUser,
    complaint_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        c = await user.api.get(f"/complaints/{complaint_id}")
    except ApiError as exc:
        raise refusal(exc) from exc
    now = request.app.state.clock.now()
    orders = []
    for order_id in c["work_order_ids"]:
        order = await user.api.get_or_none(f"/work-orders/{order_id}")
        if order is not None:
            orders.append(order)
    tasks = {s["work_order_id"]: s for s in c.get("shutoffs", [])}
    due = [
        {"step": step, **d, "left": seconds_left(d["due_at"], now)}
        for step, d in sorted(c["due"].items(), key=lambda kv: kv[1]["due_at"])
    ]
    return render(
        request,
        "complaint.html",
        status=status,
        user=user,
        c=c,
        error=error,
        moves=complaint_moves(c["status"], user.role),
        noted=NOTED,
        orders=orders,
        tasks=tasks,
        due=due,
        earlier=await _history(user, c),
        left_text=left_text,
        outcomes=list(CallbackOutcome),
        purposes=list(ReplyPurpose),
        departments=list(Department),
        priorities=list(Priority),
        categories=list(Category),
        responsibilities=list(Responsibility),
        unit_of=_unit_of,
    )


@router.get("/desk/complaints/{complaint_id}")
async def complaint_page(request: Request, complaint_id: IdPath) -> Response:
    """One complaint: everything the ledger holds, and what can be done with it now."""
    check_query(request, ())
    user = await current_user(request)
    return await _detail(request, user, complaint_id)


def _back(complaint_id: int) -> Response:
    return RedirectResponse(f"/desk/complaints/{complaint_id}", status_code=303)


async def act(
    request: Request, user: WebUser, complaint_id: int, path: str, body: dict[str, Any]
) -> Response:
    """POST to the API; back to the page, or the page again with the refusal's reason."""
    try:
        await user.api.post(path, body)
    except ApiError as exc:
        if exc.status >= 500:
            raise refusal(exc) from exc
        return await _detail(request, user, complaint_id, error=exc.message, status=exc.status)
    return _back(complaint_id)


def _move_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"to": form.get("to", "")}
    if note := form.get("note", "").strip():
        body["note"] = note
    if assignee := form.get("assignee", "").strip():
        body["assignee"] = assignee
    if outcome := form.get("outcome", "").strip():
        body["outcome"] = outcome
    if (score := form.get("satisfaction", "").strip()) and score.isdigit() and len(score) < 3:
        body["satisfaction"] = int(score)
    elif score:
        body["satisfaction"] = score  # refused by the API with its reason
    if form.get("reasonable") in ("yes", "no"):
        body["reasonable"] = form["reasonable"] == "yes"
    return body


@router.post("/desk/complaints/{complaint_id}/moves")
async def move(request: Request, complaint_id: IdPath) -> Response:
    """A workflow move pressed on the page (`data-move`)."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    path = f"/complaints/{complaint_id}/transitions"
    return await act(request, user, complaint_id, path, _move_body(form))


@router.post("/desk/complaints/{complaint_id}/work-orders")
async def open_order(request: Request, complaint_id: IdPath) -> Response:
    """Open a work order from the complaint (department, priority, title prefilled)."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    body = {k: form[k].strip() for k in ("department", "priority", "title") if form.get(k)}
    path = f"/complaints/{complaint_id}/work-orders"
    return await act(request, user, complaint_id, path, body)


@router.post("/desk/complaints/{complaint_id}/classification")
async def correct(request: Request, complaint_id: IdPath) -> Response:
    """Correct the classification, with the reason (kept for the statistics)."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    body = {k: form[k].strip() for k in ("responsibility", "category", "reason") if form.get(k)}
    path = f"/complaints/{complaint_id}/classification"
    return await act(request, user, complaint_id, path, body)


@router.post("/desk/complaints/{complaint_id}/answer")
async def answer(request: Request, complaint_id: IdPath) -> Response:
    """A reply told to the owner, recorded from the complaint's page (phrases checked)."""
    check_query(request, ())
    user = await current_user(request)
    form = await checked_form(request, user)
    body: dict[str, Any] = {"text": form.get("text", ""), "channel": form.get("channel") or "phone"}
    if form.get("purpose"):
        body["purpose"] = form["purpose"]
    if form.get("owner_accepts") in ("yes", "no"):
        body["owner_accepts"] = form["owner_accepts"] == "yes"
    path = f"/complaints/{complaint_id}/replies"
    return await act(request, user, complaint_id, path, body)
