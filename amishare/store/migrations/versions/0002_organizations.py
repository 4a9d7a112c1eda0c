"""organizations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 03:12:22.662934
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_email', ['email'], unique=False)
    op.create_table('create_account_requests',
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=True),
    sa.Column('account_name', sa.String(length=128), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('requested_at', sa.Float(), nullable=False),
    sa.Column('completed_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('request_id')
    )
    op.create_table('handshakes',
    sa.Column('handshake_id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('management_account_id', sa.String(length=12), nullable=False),
    sa.Column('target_account_id', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.String(length=1024), nullable=True),
    sa.Column('requested_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('handshake_id')
    )
    with op.batch_alter_table('handshakes', schema=None) as batch_op:
        batch_op.create_index('ix_handshakes_org', ['org_id', 'requested_at'], unique=False)
        batch_op.create_index('ix_handshakes_target', ['target_account_id', 'requested_at'], unique=False)

    op.create_table('organizations',
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('management_account_id', sa.String(length=12), nullable=False),
    sa.Column('feature_set', sa.String(length=32), nullable=False),
    sa.Column('root_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('org_id'),
    sa.UniqueConstraint('management_account_id')
    )
    op.create_table('org_accounts',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('parent_id', sa.String(length=72), nullable=False),
    sa.Column('email', sa.String(length=256), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('joined_method', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.org_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    with op.batch_alter_table('org_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_org_accounts_org', ['org_id', 'account_id'], unique=False)
        batch_op.create_index('ix_org_accounts_parent', ['parent_id', 'account_id'], unique=False)

    op.create_table('org_units',
    sa.Column('node_id', sa.String(length=72), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('parent_id', sa.String(length=72), nullable=True),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.org_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('node_id')
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index('ix_org_units_parent', ['parent_id', 'name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_email')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index('ix_org_units_parent')

    op.drop_table('org_units')
    with op.batch_alter_table('org_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_org_accounts_parent')
        batch_op.drop_index('ix_org_accounts_org')

    op.drop_table('org_accounts')
    op.drop_table('organizations')
    with op.batch_alter_table('handshakes', schema=None) as batch_op:
        batch_op.drop_index('ix_handshakes_target')
        batch_op.drop_index('ix_handshakes_org')

    op.drop_table('handshakes')
    op.drop_table('create_account_requests')
