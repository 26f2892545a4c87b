"""attachments: photos stored by SHA-256 and what they are attached to; department heads

Photos uploaded from the field (one row per site and digest) and their links to
complaints, replies, order moves and patrol entries; a user flag for the head of a
department, who dispatches its orders.

Revision ID: 0017_attachments
Revises: 0016_witness
Create Date: 2026-12-07 23:40:25.383499
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0017_attachments"
down_revision: str | Sequence[str] | None = "0016_witness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=16), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('taken_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('uploaded_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_attachments_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('site_id', 'sha256', name=op.f('uq_attachments_site_id_sha256'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)

    op.create_table('attachment_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('work_order_event_id', sa.Integer(), nullable=True),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_attachment_links_attachment_id_attachments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_attachment_links_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_attachment_links_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_id'], ['complaint_replies.id'], name=op.f('fk_attachment_links_reply_id_complaint_replies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_event_id'], ['work_order_events.id'], name=op.f('fk_attachment_links_work_order_event_id_work_order_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_attachment_links_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_links'))
    )
    with op.batch_alter_table('attachment_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_links_attachment_id'), ['attachment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_links_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_links_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_links_work_order_id'), ['work_order_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_head', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('department_head')

    with op.batch_alter_table('attachment_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_links_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_links_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_links_complaint_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_links_attachment_id'))

    op.drop_table('attachment_links')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_sha256'))

    op.drop_table('attachments')
