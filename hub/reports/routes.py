"""HTTP routes of the reports: each report in JSON, CSV or XLSX; stored runs; unified answers.

Thin: the window and the site are checked here, the figures come from `hub.reports.flows`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response, status

from hub.access import Action
from hub.api.deps import NowDep, SessionDep, SettingsDep, allowed
from hub.api.params import SLUG, IdPath, Offset
from hub.auth.principal import Principal
from hub.complaints import answers
from hub.complaints.enums import HotDimension
from hub.complaints.schemas import UnifiedAnswerOut
from hub.errors import InvalidInput, NotFound
from hub.inputs import When
from hub.reports import flows
from hub.reports.enums import Format, Lang, ReportName
from hub.reports.schemas import AnswerIn, ReportOut, RunOut
from hub.settings import Settings

router = APIRouter(prefix="/reports", tags=["reports"])

Reader = Annotated[Principal, Depends(allowed(Action.read_reports))]
Writer = Annotated[Principal, Depends(allowed(Action.write_answers))]
SiteQuery = Annotated[
    str | None,
    Query(pattern=SLUG, description="The site (default: the caller's only one)."),
]
FormatQuery = Annotated[Format, Query(alias="format", description="json, csv or xlsx.")]
LangQuery = Annotated[Lang, Query(description="Language of headers and sheet names.")]

DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: JSON, CSV (UTF-8 with BOM, its main table) or XLSX.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            flows.MEDIA[Format.xlsx]: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _site(principal: Principal, site: str | None) -> str:
    """The site asked for (default: the caller's only one); another site's is not found."""
    if site is None:
        if len(principal.site_ids) != 1:
            raise InvalidInput("say which site (`site`)", details={"field": "site"})
        (site,) = principal.site_ids
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
    return site


def _answer(
    document: dict[str, Any], fmt: Format, lang: Lang, settings: Settings
) -> ReportOut | Response:
    if fmt == Format.json:
        return ReportOut.model_validate(document)
    zone = settings.zone
    body = flows.rendered(document, fmt, lang=lang, zone=zone)
    name = quote(flows.filename(document, fmt, zone))
    return Response(
        body,
        media_type=flows.MEDIA[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def _report_route(name: ReportName) -> Callable[..., ReportOut | Response]:
    spec = flows.CATALOG[name]

    def report(
        session: SessionDep,
        principal: Reader,
        settings: SettingsDep,
        now: NowDep,
        site: SiteQuery = None,
        since: When | None = None,
        until: When | None = None,
        fmt: FormatQuery = Format.json,
        lang: LangQuery = Lang.zh,
    ) -> ReportOut | Response:
        site_id = _site(principal, site)
        start, end = flows.window(name, since=since, until=until, now=now, zone=settings.zone)
        built = flows.build(
            session=session,
            name=name,
            site_id=site_id,
            since=start,
            until=end,
            now=now,
            zone=settings.zone,
        )
        return _answer(built.document(), fmt, lang, settings)

    report.__name__ = f"report_{name.value.replace('-', '_')}"
    report.__doc__ = (
        f"{spec.en} ({spec.zh}); default window: the last full {spec.window.replace('_', '-')}"
        " period in local time."
    )
    return report


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    session: SessionDep,
    principal: Reader,
    site: SiteQuery = None,
    report: ReportName | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[RunOut]:
    """Stored report runs (the scheduled weekly, half-monthly and monthly ones), newest first."""
    scope = [_site(principal, site)] if site is not None else sorted(principal.site_ids)
    found = flows.runs(session=session, site_ids=scope, report=report, limit=limit, offset=offset)
    return [RunOut.build(run) for run in found]


@router.get("/runs/{run_id}/download", response_model=ReportOut, responses=DOWNLOADS)
def download_run(
    run_id: IdPath,
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    fmt: FormatQuery = Format.json,
    lang: LangQuery = Lang.zh,
) -> ReportOut | Response:
    """A stored run as it was made, in JSON, CSV or XLSX."""
    run = flows.get_run(session=session, run_id=run_id, site_ids=principal.site_ids)
    return _answer(run.document, fmt, lang, settings)


@router.get("/answers", response_model=list[UnifiedAnswerOut])
def list_answers(
    session: SessionDep,
    principal: Reader,
    site: SiteQuery = None,
    dimension: HotDimension | None = None,
) -> list[UnifiedAnswerOut]:
    """Every version of the site's unified answers (统一答复), item by item, newest first."""
    site_id = _site(principal, site)
    found = answers.versions(session=session, site_id=site_id, dimension=dimension)
    return [UnifiedAnswerOut.build(a) for a in found]


@router.post("/answers", response_model=UnifiedAnswerOut, status_code=status.HTTP_201_CREATED)
def write_answer(
    body: AnswerIn, session: SessionDep, principal: Writer, now: NowDep
) -> UnifiedAnswerOut:
    """A new version of the answer to a hot item; the desk sees it on matching complaints."""
    site_id = _site(principal, body.site)
    answer = answers.write(
        session=session,
        site_id=site_id,
        dimension=body.dimension,
        value=body.value,
        text=body.text,
        author=principal.name,
        now=now,
    )
    session.commit()
    return UnifiedAnswerOut.build(answer)


for _name in ReportName:
    router.add_api_route(
        f"/{_name.value}",
        _report_route(_name),
        methods=["GET"],
        response_model=ReportOut,
        responses=DOWNLOADS,
    )
