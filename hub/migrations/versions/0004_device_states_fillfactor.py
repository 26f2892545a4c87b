"""device_states: leave half of each page free on PostgreSQL so chain-head updates stay HOT

Every ingest batch rewrites the chain head of each device it saw. With full pages the new
row version goes to another page and every index gets a new entry; with room on the page
PostgreSQL updates in place (a heap-only tuple), the table stays at its size between
vacuums and the WAL carries no index entries. Pages written from now on keep the room.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE device_states SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE device_states RESET (fillfactor)")
