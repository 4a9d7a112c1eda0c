"""kms

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 03:27:30.868888
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kms_aliases',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('alias_name', sa.String(length=256), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'region', 'alias_name')
    )
    with op.batch_alter_table('kms_aliases', schema=None) as batch_op:
        batch_op.create_index('ix_kms_aliases_key', ['key_id'], unique=False)

    op.create_table('kms_grants',
    sa.Column('grant_id', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('grantee_principal', sa.String(length=2048), nullable=False),
    sa.Column('retiring_principal', sa.String(length=2048), nullable=True),
    sa.Column('operations', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('issuing_account', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('grant_id')
    )
    with op.batch_alter_table('kms_grants', schema=None) as batch_op:
        batch_op.create_index('ix_kms_grants_key', ['key_id', 'grant_id'], unique=False)

    op.create_table('kms_keys',
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=8192), nullable=False),
    sa.Column('key_manager', sa.String(length=16), nullable=False),
    sa.Column('key_state', sa.String(length=24), nullable=False),
    sa.Column('policy', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('deletion_date', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('key_id')
    )
    with op.batch_alter_table('kms_keys', schema=None) as batch_op:
        batch_op.create_index('ix_kms_keys_owner', ['account_id', 'region', 'key_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('kms_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_kms_keys_owner')

    op.drop_table('kms_keys')
    with op.batch_alter_table('kms_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_kms_grants_key')

    op.drop_table('kms_grants')
    with op.batch_alter_table('kms_aliases', schema=None) as batch_op:
        batch_op.drop_index('ix_kms_aliases_key')

    op.drop_table('kms_aliases')
