"""the audit trail: CloudTrail management events and the resources they name

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trail_events',
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('event_time', sa.Float(), nullable=False),
        sa.Column('event_name', sa.String(length=64), nullable=False),
        sa.Column('event_source', sa.String(length=64), nullable=False),
        sa.Column('read_only', sa.Boolean(), nullable=False),
        sa.Column('username', sa.String(length=128), nullable=True),
        sa.Column('access_key_id', sa.String(length=32), nullable=True),
        sa.Column('record', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('event_id'),
    )
    with op.batch_alter_table('trail_events', schema=None) as batch_op:
        batch_op.create_index('ix_trail_events_account', ['account_id', 'region', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_events_name', ['account_id', 'region', 'event_name', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_events_source',
                              ['account_id', 'region', 'event_source', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_events_read_only',
                              ['account_id', 'region', 'read_only', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_events_username', ['account_id', 'region', 'username', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_events_key', ['account_id', 'region', 'access_key_id', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_events_time', ['event_time'])
    op.create_table(
        'trail_resources',
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('resource_type', sa.String(length=64), nullable=False),
        sa.Column('resource_name', sa.String(length=256), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('event_time', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', 'resource_type', 'resource_name'),
    )
    with op.batch_alter_table('trail_resources', schema=None) as batch_op:
        batch_op.create_index('ix_trail_resources_name',
                              ['account_id', 'region', 'resource_name', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_resources_type',
                              ['account_id', 'region', 'resource_type', 'event_time', 'event_id'])
        batch_op.create_index('ix_trail_resources_time', ['event_time'])


def downgrade() -> None:
    op.drop_table('trail_resources')
    op.drop_table('trail_events')
