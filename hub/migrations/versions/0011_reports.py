"""reports: stored report runs, the scheduler's job periods, unified answers

Report runs as they were made (the JSON document; CSV and XLSX are rendered from it), the
latest period each scheduled job ran for (claimed by a conditional update, so one hub
process runs each period), and the versioned unified answers to hot complaint items.

Revision ID: 0011_reports
Revises: 0010_live_events
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = '0011_reports'
down_revision: str | Sequence[str] | None = '0010_live_events'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('period_start', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ran_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_runs'))
    )
    op.create_table('report_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('since', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('until', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('mailed_to', sa.JSON(), nullable=False),
    sa.Column('mailed_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mail_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_report_runs_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_runs')),
    sa.UniqueConstraint('report', 'site_id', 'since', 'until', name=op.f('uq_report_runs_report_site_id_since_until'))
    )
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_runs_site_id_created_at'), ['site_id', 'created_at'], unique=False)

    op.create_table('complaint_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=400), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_complaint_answers_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_answers')),
    sa.UniqueConstraint('site_id', 'dimension', 'value', 'version', name=op.f('uq_complaint_answers_site_id_dimension_value_version'))
    )


def downgrade() -> None:
    op.drop_table('complaint_answers')
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_runs_site_id_created_at'))

    op.drop_table('report_runs')
    op.drop_table('job_runs')
