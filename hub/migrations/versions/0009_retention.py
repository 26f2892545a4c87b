"""retention: the signed record of signals pruned from a device's chain

Revision ID: 0009_retention
Revises: 0008_adapters
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = '0009_retention'
down_revision: str | Sequence[str] | None = '0008_adapters'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signal_pruned_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('first_position', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('prev_digest', sa.String(length=64), nullable=False),
    sa.Column('last_digest', sa.String(length=64), nullable=False),
    sa.Column('first_ts', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_ts', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pruned_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['evidence_checkpoints.id'], name=op.f('fk_signal_pruned_runs_checkpoint_id_evidence_checkpoints'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_signal_pruned_runs_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_pruned_runs'))
    )
    op.create_index(op.f('ix_signal_pruned_runs_device_id_prev_digest'), 'signal_pruned_runs', ['device_id', 'prev_digest'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_signal_pruned_runs_device_id_prev_digest'), table_name='signal_pruned_runs')
    op.drop_table('signal_pruned_runs')
