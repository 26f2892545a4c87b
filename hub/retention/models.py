"""ORM model of retention: the signed record of each run of signals pruned from a chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class PrunedRun(Base):
    """Consecutive signals of one device's chain that retention deleted; never updated.

    The chain went from `prev_digest` (the digest before the run's first signal) through
    `count` links to `last_digest`, positions `first_position` to
    `first_position + count - 1`. The hub signs that statement (`hub.evidence.verify.
    pruned_statement`), so a walk can step over the run and a deletion nobody signed still
    shows as a broken link. `checkpoint_id` is the checkpoint made just before the prune,
    which attests the chain as it stood with the run still in it.
    """

    __tablename__ = "signal_pruned_runs"
    __table_args__ = (Index(None, "device_id", "prev_digest", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    site_id: Mapped[str] = mapped_column(String(64))
    first_position: Mapped[int]
    count: Mapped[int]
    prev_digest: Mapped[str] = mapped_column(String(64))
    last_digest: Mapped[str] = mapped_column(String(64))
    first_ts: Mapped[datetime]
    last_ts: Mapped[datetime]
    pruned_at: Mapped[datetime]
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_checkpoints.id", ondelete="SET NULL")
    )
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)
