"""forecasts and parts: each quantity's forecast and track, parts and their movements

The latest forecast of every forecast quantity (with the running track it came from) and
the signal cursor of each site; the parts store (stock, minimum, lead days, on order) with
every movement of its stock; the part an order on hold waits for.

Revision ID: 0015_forecasts
Revises: 0014_names
Create Date: 2026-12-07 23:39:54.099591
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0015_forecasts"
down_revision: str | Sequence[str] | None = "0014_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('forecast_cursors',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('signal_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_forecast_cursors_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_forecast_cursors'))
    )
    op.create_table('parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('device_kind', sa.String(length=16), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('min_stock', sa.Integer(), nullable=False),
    sa.Column('lead_days', sa.Integer(), nullable=False),
    sa.Column('on_order', sa.Integer(), nullable=False),
    sa.Column('reorder_since', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('on_order >= 0', name=op.f('ck_parts_on_order_not_negative')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_parts_stock_not_negative')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_parts_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parts')),
    sa.UniqueConstraint('site_id', 'name', name=op.f('uq_parts_site_id_name'))
    )
    op.create_table('forecasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.String(length=16), nullable=False),
    sa.Column('outlook', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Double(), nullable=True),
    sa.Column('rate_per_hour', sa.Double(), nullable=True),
    sa.Column('runs_out_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('earliest', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('latest', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('since', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('readings', sa.Integer(), nullable=False),
    sa.Column('last_reading_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('track', sa.JSON(), nullable=False),
    sa.Column('updated_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_forecasts_device_id_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_forecasts_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecasts')),
    sa.UniqueConstraint('device_id', 'quantity', name=op.f('uq_forecasts_device_id_quantity'))
    )
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecasts_site_id_runs_out_at'), ['site_id', 'runs_out_at'], unique=False)

    op.create_table('part_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('part_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stock_after', sa.Integer(), nullable=False),
    sa.Column('on_order_after', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_part_movements_part_id_parts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_part_movements_work_order_id_work_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_part_movements'))
    )
    with op.batch_alter_table('part_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_part_movements_part_id_at'), ['part_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_part_movements_work_order_id'), ['work_order_id'], unique=False)

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_part_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_work_orders_hold_part_id_parts'), 'parts', ['hold_part_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_work_orders_hold_part_id_parts'), type_='foreignkey')
        batch_op.drop_column('hold_part_id')

    with op.batch_alter_table('part_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_part_movements_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_part_movements_part_id_at'))

    op.drop_table('part_movements')
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forecasts_site_id_runs_out_at'))

    op.drop_table('forecasts')
    op.drop_table('parts')
    op.drop_table('forecast_cursors')
