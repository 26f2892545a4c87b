"""complaints: the unit as typed (`unit_text`) and the owner's satisfaction at callback

`unit_text` keeps the unit the desk typed (or read from the owner's words) when the
registry does not know it, so the order, the shut-off task and the reply can still name
it. `satisfaction` is the owner's score 1-5 recorded with the callback's verdict.

Revision ID: 0013_desk
Revises: 0012_sessions
Create Date: 2026-12-08 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_desk"
down_revision: str | Sequence[str] | None = "0012_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_text", sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column("satisfaction", sa.SmallInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_complaints_unit_text"), ["unit_text"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_unit_text"))
        batch_op.drop_column("satisfaction")
        batch_op.drop_column("unit_text")
