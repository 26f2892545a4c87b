"""`fhub inspections`: patrol logs from paper."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.alarms.rules import RuleBook
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.inspections.importer import import_file
from hub.settings import load_settings

app = typer.Typer(help="Patrol logs (巡查记录).")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV: one item per row.", exists=True)],
    actor: Annotated[str, typer.Option(help="Who typed the log in.")] = "fhub inspections import",
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
) -> None:
    """Import a paper patrol log; every row is checked, nothing is stored if any is bad."""
    settings = load_settings(config)
    engine = make_engine(settings.effective_database_url)
    with session_scope(session_factory(engine)) as session:
        report = import_file(
            session=session, path=file, actor=actor, now=SystemClock().now(), zone=settings.zone,
            rules=RuleBook.from_file(settings.rules_file),
        )  # fmt: skip
        if not report.ok:
            session.rollback()
            for line, message in report.errors:
                typer.echo(f"{file}:{line}: {message}", err=True)
            typer.echo(f"{len(report.errors)} error(s); nothing imported", err=True)
            raise typer.Exit(1)
    typer.echo(f"imported {report.entries} entries; {report.discrepancies} discrepancies found")
