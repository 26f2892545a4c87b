"""`fhub reports`: a report for a site and window, written to a file in JSON, CSV or XLSX."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from hub.cliopts import ConfigOpt, settings_or_exit, when_or_exit
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.errors import HubError
from hub.registry.models import Site
from hub.reports import flows
from hub.reports.enums import Format, Lang, ReportName

app = typer.Typer(help="Reports: weekly hot items, unfinished list, SLA, proactive, monthly.")


@app.command("run")
def run(
    name: Annotated[ReportName, typer.Argument(help="Which report.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    site: Annotated[
        str | None, typer.Option("--site", help="The site (default: the only one).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window start, ISO-8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Window end, ISO-8601 with offset.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="json, csv or xlsx.")] = Format.xlsx,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of headers.")] = Lang.zh,
    config: ConfigOpt = None,
) -> None:
    """Build one report and write it; the default window is the report's last full period."""
    settings = settings_or_exit(config)
    start, end = when_or_exit(since, "since"), when_or_exit(until, "until")
    now = SystemClock().now()
    sessions = session_factory(make_engine(settings.effective_database_url))
    with (
        session_scope(sessions) as session,
        typer.progressbar(length=3, label=f"{name}", file=sys.stderr) as bar,
    ):
        if site is None:
            known = session.scalars(select(Site.id)).all()
            if len(known) != 1:
                typer.echo(
                    f"error: say which site (--site): {', '.join(known) or 'none'}", err=True
                )
                raise typer.Exit(2)
            site = known[0]
        try:
            start, end = flows.window(name, since=start, until=end, now=now, zone=settings.zone)
            bar.update(1)
            report = flows.build(
                session=session,
                name=name,
                site_id=site,
                since=start,
                until=end,
                now=now,
                zone=settings.zone,
            )
        except HubError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        bar.update(1)
        document = report.document()
        if fmt == Format.json:
            data = json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"
        else:
            data = flows.rendered(document, fmt, lang=lang, zone=settings.zone)
        bar.update(1)
    out.write_bytes(data)
    totals = ", ".join(f"{k} {v}" for k, v in document["totals"].items())
    typer.echo(f"wrote {out} ({len(data)} bytes): {name} {site} — {totals}")
