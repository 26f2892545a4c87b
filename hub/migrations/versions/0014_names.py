"""names: every name in two languages

Sites, locations (every level of the tree) and devices carry an English name beside the
Chinese one (`name_en`, '' when none: pages fall back to `name`); a work order's title
too (`title_en`) and a notice's (`title_en`), composed by the hub in both languages.

Revision ID: 0014_names
Revises: 0013_desk
Create Date: 2026-12-08 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_names"
down_revision: str | Sequence[str] | None = "0013_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMED = (('sites', 'name_en', 200), ('locations', 'name_en', 200), ('devices', 'name_en', 200),
          ('work_orders', 'title_en', 300), ('notices', 'title_en', 300))


def upgrade() -> None:
    for table, column, width in _NAMED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(column, sa.String(length=width), nullable=False, server_default='')
            )


def downgrade() -> None:
    for table, column, _width in reversed(_NAMED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
