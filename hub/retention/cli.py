"""`fhub retention`: prune old raw telemetry now, or see what a prune would remove."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cliopts import ConfigOpt, fail, settings_or_exit
from hub.clock import SystemClock
from hub.db import make_engine, session_factory
from hub.evidence.keys import Keyring
from hub.retention.jobs import policy_of, prune
from hub.settings import Settings

app = typer.Typer(help="Retention of raw telemetry (FH_RETENTION_DAYS per device kind).")


def _settings(config: Path | None) -> Settings:
    settings = settings_or_exit(config)
    try:
        policy_of(settings)
    except ValueError as exc:
        fail(str(exc))
    return settings


@app.command("prune")
def prune_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be pruned; delete nothing.")
    ] = False,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Prune telemetry older than each kind's retention; state changes, events and anything
    referred to are kept, and a checkpoint is signed before each batch."""
    settings = _settings(config)
    if not settings.retention_days:
        typer.echo("no retention configured (FH_RETENTION_DAYS): every signal is kept", err=True)
        return
    clock = SystemClock()
    keyring = Keyring.open(settings.key_dir, now=clock.now())
    sessions = session_factory(make_engine(settings.effective_database_url))
    report = prune(
        sessions=sessions,
        settings=settings,
        keyring=keyring,
        now=clock.now(),
        dry_run=dry_run,
        site_ids=site,
    )
    verb = "would prune" if dry_run else "pruned"
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.per_kind.items())) or "none"
    typer.echo(
        f"{verb} {report.pruned} signals in {report.runs} runs ({kinds}); "
        f"kept {report.kept} old readings (state changes, referred to); "
        f"{report.checkpoints} checkpoints"
    )
