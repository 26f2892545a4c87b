"""The timed work of evidence: a signed checkpoint of each site whose chains moved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.evidence import checkpoints
from hub.evidence.keys import Keyring
from hub.registry.models import Site


def checkpoint_sites(*, session: Session, keyring: Keyring, now: datetime) -> int:
    """Sign a checkpoint of every site whose chain heads moved since its last; how many."""
    made = 0
    for site_id in session.scalars(select(Site.id).order_by(Site.id)):
        if checkpoints.if_changed(session=session, site_id=site_id, keyring=keyring, now=now):
            made += 1
    return made
