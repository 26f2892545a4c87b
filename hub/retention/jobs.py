"""The retention job: prune every site's old telemetry per the configured policy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hub.evidence.keys import Keyring
from hub.retention.flows import PruneReport, prune_all
from hub.retention.policy import RetentionPolicy
from hub.settings import Settings


def policy_of(settings: Settings) -> RetentionPolicy:
    """The configured policy (ValueError when `FH_RETENTION_DAYS` is wrong)."""
    return RetentionPolicy.from_settings(settings.retention_days, settings.retention_batch)


def prune(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    keyring: Keyring,
    now: datetime,
    dry_run: bool = False,
    site_ids: list[str] | None = None,
) -> PruneReport:
    """Prune old telemetry of every site (or `site_ids`), each batch after a checkpoint."""
    return prune_all(
        sessions=sessions,
        policy=policy_of(settings),
        keyring=keyring,
        now=now,
        dry_run=dry_run,
        site_ids=site_ids,
    )
