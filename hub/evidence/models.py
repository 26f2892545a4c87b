"""ORM models of evidence: the signed checkpoints of the device chains, and the packs made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class Checkpoint(Base):
    """A signed Merkle root over every chain head of a site at one moment; never updated.

    `heads` holds the leaves in tree order (`[device_id, count, head]`), `prev` the statement
    digest of the site's checkpoint before it, so a checkpoint removed from the middle shows.
    """

    __tablename__ = "evidence_checkpoints"
    __table_args__ = (UniqueConstraint("site_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    seq: Mapped[int]
    created_at: Mapped[datetime]
    tree_size: Mapped[int]
    root: Mapped[str] = mapped_column(String(64))
    heads: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    prev: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)


class Export(Base):
    """A pack handed out: what it covers, who made it, the digest of the file."""

    __tablename__ = "evidence_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_checkpoints.id", ondelete="CASCADE")
    )
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]


class Cosignature(Base):
    """A witness's co-signature of a checkpoint (its key is the witness's, never the hub's)."""

    __tablename__ = "evidence_cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "witness"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_checkpoints.id", ondelete="CASCADE"), index=True
    )
    witness: Mapped[str] = mapped_column(String(32))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
