"""Reports by name: build one (reading every domain), render it, store a run, publish it.

The catalog says, for each report, its tables, its default window and how it is built;
`proactive` reads what correlation records (`hub.correlation.measure.proactive`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hub import inputs
from hub.correlation import measure
from hub.errors import InvalidInput, NotFound
from hub.localtime import shown
from hub.outbox.service import enqueue
from hub.registry.models import Site
from hub.reports import backlog, hot, periods, render, timing
from hub.reports.enums import Cadence, Format, Lang, ReportName, RunTrigger
from hub.reports.mail import Letter
from hub.reports.models import ReportRun
from hub.reports.tables import Chart, ChartKind, Column, Kind, Layout, Report

PROACTIVE = Layout(
    "issues",
    "主动发现",
    "Proactive",
    (
        Column("work_order_id", "工单", "Order", Kind.int, 8),
        Column("title", "内容", "What", width=40),
        Column("source", "来源", "Source", width=10, codes="source"),
        Column("complaint_ids", "投诉", "Complaints", width=14),
        Column("sensor_at", "传感器时间", "Sensor at", Kind.time, 18),
        Column("complaint_at", "首次投诉", "First complaint", Kind.time, 18),
        Column("sensor_first", "传感器先知", "Sensor first", width=10),
        Column("lead_minutes", "提前(分)", "Lead (min)", Kind.float, 10),
    ),
    Chart(ChartKind.bar, "work_order_id", ("lead_minutes",), "提前发现(分钟)", "Lead in minutes"),
)

EARLIEST = inputs.EARLIEST
LATEST = inputs.LATEST
LONGEST = timedelta(days=3660)
"""Ten years: the longest window a report compares with the one before it."""
SORT_MEMORY = "64MB"


@dataclass(frozen=True)
class Spec:
    """A report as the catalog knows it."""

    name: ReportName
    zh: str
    en: str
    layouts: tuple[Layout, ...]
    window: Cadence
    """Its default window: the last full period of this cadence."""
    build: Callable[[Session, str, datetime, datetime, datetime, tzinfo], Report]

    def title(self, lang: Lang) -> str:
        """The report's name in `lang`."""
        return self.zh if lang == Lang.zh else self.en


def _proactive(
    session: Session, site: str, since: datetime, until: datetime, now: datetime, _zone: tzinfo
) -> Report:
    found = measure.proactive(session=session, site_id=site, since=since, until=until)
    rows: list[dict[str, Any]] = []
    for item in found.items:
        row = item.model_dump()
        row["complaint_ids"] = ", ".join(str(i) for i in item.complaint_ids)
        rows.append(row)
    totals = found.model_dump(
        include={"issues", "sensor_first", "complaint_first", "ratio", "median_lead_minutes"}
    )
    return Report("proactive", site, since, until, now, totals, {"issues": rows})


CATALOG: dict[ReportName, Spec] = {
    ReportName.weekly_hot: Spec(
        ReportName.weekly_hot,
        "每周热点投诉",
        "Weekly hot complaints",
        (hot.HOT,),
        Cadence.weekly,
        lambda s, site, a, b, now, _z: hot.weekly_hot(
            session=s, site_id=site, since=a, until=b, now=now
        ),
    ),
    ReportName.unfinished: Spec(
        ReportName.unfinished,
        "半月未完成事项",
        "Unfinished issues",
        (backlog.ITEMS, backlog.DEPARTMENTS, backlog.PARTS),
        Cadence.half_monthly,
        lambda s, site, a, b, now, _z: backlog.unfinished(
            session=s, site_id=site, since=a, until=b, now=now
        ),
    ),
    ReportName.sla: Spec(
        ReportName.sla,
        "时限达成",
        "SLA",
        (timing.STEPS,),
        Cadence.weekly,
        lambda s, site, a, b, now, _z: timing.sla(
            session=s, site_id=site, since=a, until=b, now=now
        ),
    ),
    ReportName.proactive: Spec(
        ReportName.proactive, "主动发现", "Proactive", (PROACTIVE,), Cadence.weekly, _proactive
    ),
    ReportName.monthly: Spec(
        ReportName.monthly,
        "月度投诉分析",
        "Monthly complaints",
        (hot.CATEGORIES, hot.TREND, hot.CALLBACKS),
        Cadence.monthly,
        lambda s, site, a, b, now, zone: hot.monthly(
            session=s, site_id=site, since=a, until=b, now=now, zone=zone
        ),
    ),
}
"""Every report, by name."""

SCHEDULE: dict[Cadence, tuple[ReportName, ...]] = {
    Cadence.weekly: (ReportName.weekly_hot, ReportName.sla, ReportName.proactive),
    Cadence.half_monthly: (ReportName.unfinished,),
    Cadence.monthly: (ReportName.monthly,),
}
"""Which reports each calendar job runs, for every site."""


def window(
    name: ReportName,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    zone: tzinfo,
) -> tuple[datetime, datetime]:
    """The window asked for, the missing ends from the report's default period."""
    for label, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"`{label}` needs its UTC offset", details={"field": label})
        if value is not None and not EARLIEST <= value <= LATEST:
            raise InvalidInput(
                f"`{label}` must lie between {EARLIEST.year} and {LATEST.year}",
                details={"field": label},
            )
    cadence = CATALOG[name].window
    if since is None and until is None:
        return periods.last_full(cadence, now, zone)
    if until is None:
        assert since is not None
        until = max(now, since)
    if since is None:
        since = periods.previous(cadence, periods.boundary(cadence, until, zone), zone)
        if since >= until:
            since = periods.previous(cadence, since, zone)
    if since >= until:
        raise InvalidInput("`since` must be before `until`", details={"field": "since"})
    if until - since > LONGEST:
        raise InvalidInput(
            f"a report covers at most {LONGEST.days} days", details={"field": "since"}
        )
    return since, until


def build(
    *,
    session: Session,
    name: ReportName,
    site_id: str,
    since: datetime,
    until: datetime,
    now: datetime,
    zone: tzinfo,
) -> Report:
    """Build report `name` for one site and window."""
    if session.get(Site, site_id) is None:
        raise NotFound(f"site {site_id!r} not found")
    if session.get_bind().dialect.name == "postgresql":
        # A year of deadlines is ranked in one sort: let it happen in memory, for this
        # transaction only (the default 4 MB spills it to disk).
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    return CATALOG[name].build(session, site_id, since, until, now, zone)


MEDIA: dict[Format, str] = {
    Format.json: "application/json",
    Format.csv: "text/csv; charset=utf-8",
    Format.xlsx: render.XLSX,
}


def filename(document: dict[str, Any], fmt: Format, zone: tzinfo) -> str:
    """`weekly-hot_sunshine-garden_2026-11-23_2026-11-30.xlsx`, dates local."""
    since = datetime.fromisoformat(document["since"]).astimezone(zone).date()
    until = datetime.fromisoformat(document["until"]).astimezone(zone).date()
    return f"{document['report']}_{document['site']}_{since}_{until}.{fmt}"


def rendered(document: dict[str, Any], fmt: Format, *, lang: Lang, zone: tzinfo) -> bytes:
    """The document as CSV or XLSX bytes (JSON is answered as it is)."""
    spec = CATALOG[ReportName(document["report"])]
    if fmt == Format.csv:
        return render.to_csv(document, spec.layouts[0], lang=lang, zone=zone)
    if fmt == Format.xlsx:
        return render.to_xlsx(document, spec.layouts, lang=lang, zone=zone)
    raise ValueError(f"no rendering for {fmt}")


def report_topic(site_id: str) -> str:
    """Where stored report runs are announced (CONTRACT.md: `fh/{site}/hub/{entity}`)."""
    return f"fh/{site_id}/hub/report"


def store(
    *,
    session: Session,
    report: Report,
    trigger: RunTrigger,
    actor: str,
    now: datetime,
) -> ReportRun:
    """Keep a run, and announce it on MQTT after the caller's commit."""
    document = report.document()
    run = ReportRun(
        report=report.name,
        site_id=report.site,
        since=report.since,
        until=report.until,
        trigger=trigger,
        created_at=now,
        created_by=actor,
        document=document,
        mailed_to=[],
    )
    session.add(run)
    session.flush()
    enqueue(
        session=session,
        topic=report_topic(report.site),
        payload={
            "event": "report_run",
            "id": run.id,
            "report": report.name,
            "since": document["since"],
            "until": document["until"],
            "totals": document["totals"],
            "download": f"/api/v1/reports/runs/{run.id}/download",
        },
        now=now,
    )
    return run


def letter(run: ReportRun, zone: tzinfo) -> Letter:
    """The mail of a stored run: a subject in both languages, the totals, the XLSX attached."""
    spec = CATALOG[ReportName(run.report)]
    since, until = shown(run.since, zone), shown(run.until, zone)
    lines = [f"{spec.zh} / {spec.en}", f"{run.site_id}: {since} — {until}", ""]
    lines += [f"{key}: {value}" for key, value in run.document.get("totals", {}).items()]
    return Letter(
        subject=f"[facility-hub] {spec.zh} {spec.en} {run.site_id} {since[:10]}",
        body="\n".join(lines) + "\n",
        filename=filename(run.document, Format.xlsx, zone),
        attachment=rendered(run.document, Format.xlsx, lang=Lang.zh, zone=zone),
    )


def runs(
    *,
    session: Session,
    site_ids: Sequence[str],
    report: ReportName | None,
    limit: int,
    offset: int,
) -> Sequence[ReportRun]:
    """Stored runs of the sites, newest first."""
    query = select(ReportRun).where(ReportRun.site_id.in_(site_ids))
    if report is not None:
        query = query.where(ReportRun.report == report)
    return session.scalars(
        query.order_by(ReportRun.created_at.desc(), ReportRun.id.desc()).limit(limit).offset(offset)
    ).all()


def get_run(*, session: Session, run_id: int, site_ids: frozenset[str]) -> ReportRun:
    """The stored run with this id, if it is in one of `site_ids`."""
    run = session.get(ReportRun, run_id)
    if run is None or run.site_id not in site_ids:
        raise NotFound(f"report run {run_id} not found")
    return run
