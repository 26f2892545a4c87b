"""dead_letters: the original bytes (base64) and a digest of topic and payload

A dead letter's `payload` is text for reading: truncated, invalid UTF-8 replaced, and
characters PostgreSQL text cannot hold (U+0000) escaped. `payload_base64` keeps the bytes
the device sent, so nothing about a refused message is lost. `digest` identifies a
message by topic and payload: a retained message the broker hands out again on every
subscription is dead-lettered once, not once per reconnect.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_base64", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_dead_letters_digest"), ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_digest"))
        batch_op.drop_column("digest")
        batch_op.drop_column("payload_base64")
