"""adapters: devices' external ids, the quarantine of unknown adapter devices, broker logins

A device speaking a third-party format (zigbee2mqtt, Tasmota) names its adapter and its
external id (the friendly name or Tasmota topic), unique per adapter; devices registered
with the older `external_topic` get the id taken from it. Adapter messages from devices
the registry does not know are held in `quarantined_devices`, one row per external id,
until an admin registers them. `broker_credentials` holds the broker logins the hub
issues, as Mosquitto `$7$` PBKDF2 hashes.

Revision ID: 0008_adapters
Revises: 0007
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = '0008_adapters'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_devices_adapter_external_id'), ['adapter', 'external_id']
        )
    devices = sa.table(
        'devices',
        sa.column('id', sa.String()),
        sa.column('adapter', sa.String()),
        sa.column('external_topic', sa.String()),
        sa.column('external_id', sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(devices.c.id, devices.c.adapter, devices.c.external_topic).where(
            devices.c.adapter.is_not(None), devices.c.external_topic.is_not(None)
        )
    ).all()
    for device_id, adapter, topic in rows:
        parts = topic.split('/')
        # zigbee2mqtt/{friendly name}; tele/{topic}/... for Tasmota
        external = '/'.join(parts[1:]) if adapter == 'zigbee2mqtt' else (parts[1] if len(parts) > 1 else topic)
        bind.execute(
            devices.update().where(devices.c.id == device_id).values(external_id=external or topic)
        )

    op.create_table('quarantined_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('adapter', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=512), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('payload_base64', sa.Text(), nullable=False),
    sa.Column('payload_bytes', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_devices')),
    sa.UniqueConstraint('adapter', 'external_id', name=op.f('uq_quarantined_devices_adapter_external_id'))
    )
    op.create_table('broker_credentials',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('adapter', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_broker_credentials_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_broker_credentials'))
    )
    with op.batch_alter_table('broker_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broker_credentials_device_id'), ['device_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('broker_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broker_credentials_device_id'))
    op.drop_table('broker_credentials')
    op.drop_table('quarantined_devices')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_devices_adapter_external_id'), type_='unique')
        batch_op.drop_column('external_id')
