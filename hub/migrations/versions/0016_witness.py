"""witness: co-signatures of the evidence checkpoints by independent witnesses

A witness (an owners' committee, a notary) co-signs a checkpoint with a key the hub never
holds; the hub keeps what it collected, and packs carry it.

Revision ID: 0016_witness
Revises: 0015_forecasts
Create Date: 2026-12-08 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0016_witness"
down_revision: str | Sequence[str] | None = "0015_forecasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_cosignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('witness', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['evidence_checkpoints.id'], name=op.f('fk_evidence_cosignatures_checkpoint_id_evidence_checkpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_cosignatures')),
    sa.UniqueConstraint('checkpoint_id', 'witness', name=op.f('uq_evidence_cosignatures_checkpoint_id_witness'))
    )
    with op.batch_alter_table('evidence_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_cosignatures_checkpoint_id'), ['checkpoint_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_cosignatures_checkpoint_id'))

    op.drop_table('evidence_cosignatures')
