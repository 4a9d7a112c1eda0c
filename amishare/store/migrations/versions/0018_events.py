"""EventBridge rules, targets, connections, API destinations, the delivery outbox and dead letters;
images by when their state settles

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'event_rules',
        sa.Column('account_id', sa.String(12), primary_key=True),
        sa.Column('region', sa.String(32), primary_key=True),
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('event_pattern', sa.Text()),
        sa.Column('state', sa.String(48), nullable=False),
        sa.Column('description', sa.String(512)),
        sa.Column('role_arn', sa.String(2048)),
        sa.Column('created_at', sa.Float(), nullable=False),
    )
    op.create_table(
        'event_targets',
        sa.Column('account_id', sa.String(12), primary_key=True),
        sa.Column('region', sa.String(32), primary_key=True),
        sa.Column('rule_name', sa.String(64), primary_key=True),
        sa.Column('target_id', sa.String(64), primary_key=True),
        sa.Column('arn', sa.String(2048), nullable=False),
        sa.Column('config', sa.Text(), nullable=False),
    )
    op.create_table(
        'event_connections',
        sa.Column('account_id', sa.String(12), primary_key=True),
        sa.Column('region', sa.String(32), primary_key=True),
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('arn', sa.String(2048), nullable=False),
        sa.Column('description', sa.String(512)),
        sa.Column('authorization_type', sa.String(32), nullable=False),
        sa.Column('auth_public', sa.Text(), nullable=False),
        sa.Column('auth_sealed', sa.Text(), nullable=False),
        sa.Column('state', sa.String(32), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('modified_at', sa.Float(), nullable=False),
    )
    op.create_table(
        'event_api_destinations',
        sa.Column('account_id', sa.String(12), primary_key=True),
        sa.Column('region', sa.String(32), primary_key=True),
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('arn', sa.String(2048), nullable=False),
        sa.Column('description', sa.String(512)),
        sa.Column('connection_arn', sa.String(2048), nullable=False),
        sa.Column('endpoint', sa.String(2048), nullable=False),
        sa.Column('http_method', sa.String(8), nullable=False),
        sa.Column('rate_limit', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('modified_at', sa.Float(), nullable=False),
    )
    op.create_table(
        'event_outbox',
        sa.Column('delivery_id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('account_id', sa.String(12), nullable=False),
        sa.Column('region', sa.String(32), nullable=False),
        sa.Column('rule_name', sa.String(64), nullable=False),
        sa.Column('target_id', sa.String(64), nullable=False),
        sa.Column('target_arn', sa.String(2048), nullable=False),
        sa.Column('event_id', sa.String(64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('target', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('due_at', sa.Float(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_owner', sa.String(64)),
        sa.Column('last_error', sa.String(512)),
    )
    op.create_index('ix_event_outbox_due', 'event_outbox', ['due_at'])
    op.create_table(
        'event_dead_letters',
        sa.Column('dead_letter_id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('account_id', sa.String(12), nullable=False),
        sa.Column('region', sa.String(32), nullable=False),
        sa.Column('rule_name', sa.String(64), nullable=False),
        sa.Column('target_id', sa.String(64), nullable=False),
        sa.Column('target_arn', sa.String(2048), nullable=False),
        sa.Column('dead_letter_arn', sa.String(2048)),
        sa.Column('event_id', sa.String(64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('error_code', sa.String(64), nullable=False),
        sa.Column('error_message', sa.String(512)),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('failed_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_event_dead_letters_account', 'event_dead_letters', ['account_id', 'region', 'dead_letter_id'])
    op.create_index('ix_event_dead_letters_failed', 'event_dead_letters', ['failed_at'])
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index('ix_images_next_state_at', ['next_state_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index('ix_images_next_state_at')
    op.drop_index('ix_event_dead_letters_failed', table_name='event_dead_letters')
    op.drop_index('ix_event_dead_letters_account', table_name='event_dead_letters')
    op.drop_table('event_dead_letters')
    op.drop_index('ix_event_outbox_due', table_name='event_outbox')
    op.drop_table('event_outbox')
    op.drop_table('event_api_destinations')
    op.drop_table('event_connections')
    op.drop_table('event_targets')
    op.drop_table('event_rules')
