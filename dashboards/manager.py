"""`/manager`: SLA and breaches, the proactive ratio, the periodic reports with their
downloads, patrol entries the sensors contradict, and a dispute's evidence timeline.

The reports are the API's (`/reports/{weekly-hot, unfinished, sla, proactive, monthly}`,
CONTRACT.md §4): the page shows each one's headline figures and its first table, and a
report the role may not read shows an empty state.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from dashboards import disputes, i18n, periods
from dashboards.api import ApiError
from dashboards.auth import WebUser, checked_form, current_user
from dashboards.common import refusal, site_of
from dashboards.render import PageError, check_query, reason, render
from hub.api.params import IdPath
from hub.reports.enums import Lang, ReportName
from hub.reports.flows import CATALOG, Spec
from hub.reports.render import META, TOTALS, coded
from hub.reports.tables import Column, Kind

router = APIRouter(include_in_schema=False)

REPORTS = ("sla", "weekly-hot", "unfinished", "proactive", "monthly")
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def _report(user: WebUser, name: str, site: str | None, window: periods.Window) -> Any:
    """A report's JSON, or None when the hub does not serve it (yet) or the role may not."""
    return await user.api.get_or_none(f"/reports/{name}", site=site, **window.query())


PICK = ("period", "since", "until")


def _windows(request: Request) -> tuple[dict[str, str], dict[str, periods.Window]]:
    """The period picked (the page's query) and each report's window for it."""
    asked = {k: request.query_params[k] for k in PICK if request.query_params.get(k)}
    asked.setdefault("period", "current")
    now = request.app.state.clock.now()
    zone = request.app.state.settings.zone
    return asked, {
        name: periods.window(
            name, asked["period"], now=now, zone=zone, since=asked.get("since"),
            until=asked.get("until"),
        )
        for name in REPORTS
    }  # fmt: skip


def _table(report: Any, lang: str) -> dict[str, Any]:
    """A report as a page shows it: its headline figures, and its first table's rows, each
    figure and column named as the report's files name them (`hub.reports`: zh/en).

    A report is `{report, site, since, until, totals: {...}, sections: {name: [rows]}}`.
    """
    if not isinstance(report, dict):
        return {"figures": [], "columns": [], "rows": []}
    pick = 0 if lang == "zh" else 1
    totals = report.get("totals")
    scalars = {k: v for k, v in report.items() if not isinstance(v, list | dict)}
    if isinstance(totals, dict):
        scalars |= {k: v for k, v in totals.items() if not isinstance(v, list | dict)}
    names = META | TOTALS
    figures = [
        (k, names[k][pick] if k in names else k, v)
        for k, v in scalars.items()
        if k not in ("report", "site", "lang")
    ]
    sections = report.get("sections")
    spec = _spec(report.get("report"))
    layout = spec.layouts[0] if spec else None
    rows: list[Any] = []
    if isinstance(sections, dict) and layout is not None:
        rows = sections.get(layout.key) or []
    rows = [r for r in rows if isinstance(r, dict)][:50]
    shown = [
        c
        for c in (layout.columns if layout else ())
        if any(not isinstance(r.get(c.key), list | dict) for r in rows)
    ]
    cells = [[_cell(c, r, Lang(lang)) for c in shown] for r in rows]
    return {"figures": figures, "columns": [c.header(Lang(lang)) for c in shown], "rows": cells}


TYPED = frozenset({"title", "answer", "hold_reason", "content"})
"""Report columns holding what people wrote (or an order's title as the hub stored it)."""


def _cell(column: Column, row: dict[str, Any], lang: Lang) -> tuple[str, Any]:
    """A report's cell for the page: how to show it (`time`, `typed`, `text`, `number`) and
    its value, codes already in the page's words (as the report's files say them)."""
    value = row.get(column.key)
    if value is None:
        return "text", "—"
    if column.kind == Kind.time:
        return "time", value
    if column.codes or (column.key == "title" and row.get("title_en")):
        return "text", coded(column, value, row, lang)
    if column.key in TYPED and isinstance(value, str):
        return "typed", value
    if isinstance(value, str):
        return "text", value
    if column.kind == Kind.percent and isinstance(value, int | float):
        return "text", f"{value * 100:.1f} %"
    return "number", value


def _spec(name: Any) -> Spec | None:
    try:
        return CATALOG[ReportName(name)]
    except ValueError:
        return None


async def _breaches(user: WebUser) -> list[dict[str, Any]]:
    orders = await user.api.get("/work-orders", limit=500)
    late = [
        o
        for o in orders
        if o["escalation_level"] > 0 or any(d.get("breached") for d in o["due"].values())
    ]
    return sorted(late, key=lambda o: -o["escalation_level"])[:30]


@router.get("/manager")
async def manager_page(request: Request) -> Response:
    """The manager's page."""
    check_query(request, {"site", *PICK})
    user = await current_user(request)
    site = site_of(user, request.query_params.get("site"))
    picked, windows = _windows(request)
    reports = {name: await _report(user, name, site, windows[name]) for name in REPORTS}
    lang = i18n.language(request)
    tables = {name: _table(r, lang) for name, r in reports.items()}
    discrepancies = await user.api.get_or_none("/inspections/discrepancies", site=site)
    complaints = await user.api.get_or_none("/complaints", limit=30) or []
    parts = await user.api.get_or_none("/parts/forecast", site=site) or {"items": []}
    return render(
        request,
        "manager.html",
        user=user,
        site=site,
        reports=reports,
        tables=tables,
        headlines={
            name: periods.headline(
                name, {k: v for k, _label, v in t["figures"]}, i18n.translations(lang).gettext
            )
            for name, t in tables.items()
        },
        picked=picked,
        windows=windows,
        periods=periods.PERIODS,
        pick_query=urlencode(picked),
        breaches=await _breaches(user),
        discrepancies=discrepancies,
        complaints=complaints,
        reorders=[p for p in parts["items"] if p["reorder"]],
    )


@router.get("/manager/reports/{name}.{fmt}")
async def download(request: Request, name: str, fmt: str) -> Response:
    """A report as a file (the API's CSV or XLSX), for the browser to save."""
    check_query(request, {"site", *PICK})
    user = await current_user(request)
    if name not in REPORTS or fmt not in FORMATS:
        raise PageError(404, "no such report")
    site = site_of(user, request.query_params.get("site"))
    _picked, windows = _windows(request)
    params = {"format": fmt, **({"site": site} if site else {}), **windows[name].query()}
    answer = await user.api.call("GET", f"/reports/{name}", params=params)
    if answer.status_code >= 400:
        raise PageError(
            404 if answer.status_code == 404 else answer.status_code,
            "this report is not available yet",
        )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", FORMATS[fmt]),
        headers={
            "Content-Disposition": answer.headers.get(
                "content-disposition", f'attachment; filename="{name}.{fmt}"'
            )
        },
    )


@router.get("/manager/disputes/{complaint_id}")
async def dispute(request: Request, complaint_id: IdPath) -> Response:
    """A complaint's evidence timeline, drawn as a timeline, with its export."""
    check_query(request, {"show"})
    user = await current_user(request)
    cid = complaint_id
    try:
        complaint = await user.api.get(f"/complaints/{cid}")
        evidence = await user.api.get(f"/complaints/{cid}/evidence")
    except ApiError as exc:
        raise refusal(exc) from exc
    lang = i18n.language(request)
    view = disputes.view_of(request.query_params.get("show"))
    found = evidence.get("findings", [])
    shown = disputes.rows(
        evidence["timeline"], found, view, i18n.translations(lang).gettext,
        keep=partial(reason, lang),
    )  # fmt: skip
    return render(
        request,
        "dispute.html",
        user=user,
        complaint=complaint,
        evidence=evidence,
        findings=disputes.stated(found, lang, disputes.idents_of(evidence["timeline"])),
        rows=shown,
        view=view,
        views=disputes.VIEWS,
    )


@router.get("/manager/disputes/{complaint_id}/evidence.{fmt}")
async def evidence_file(request: Request, complaint_id: IdPath, fmt: str) -> Response:
    """The timeline as the API gives it (JSON), or its printable report (PDF), as a file."""
    check_query(request, ())
    user = await current_user(request)
    if fmt not in ("json", "pdf"):
        raise PageError(404, "no such file")
    cid = complaint_id
    params = {"format": "pdf"} if fmt == "pdf" else {}
    answer = await user.api.call("GET", f"/complaints/{cid}/evidence", params=params)
    if answer.status_code >= 400:
        raise PageError(
            answer.status_code if answer.status_code < 500 else 502,
            "no evidence for this complaint",
        )
    return Response(
        answer.content,
        media_type="application/pdf" if fmt == "pdf" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="evidence-complaint-{cid}.{fmt}"'},
    )


@router.post("/manager/disputes/{complaint_id}/export")
async def export(request: Request, complaint_id: IdPath) -> Response:
    """The signed evidence pack (ZIP) that `fhub evidence verify` checks offline."""
    check_query(request, ())
    user = await current_user(request)
    await checked_form(request, user)
    cid = complaint_id
    answer = await user.api.call("POST", "/evidence/exports", json={"complaint_id": cid})
    if answer.status_code >= 400:
        try:
            message = str(answer.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = "the pack could not be made"
        raise PageError(answer.status_code if answer.status_code < 500 else 502, message)
    return Response(
        answer.content,
        media_type="application/zip",
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
