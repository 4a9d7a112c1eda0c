"""iam users, groups, roles, policies and sts sessions

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('access_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_access_keys_user', ['user_id'], unique=False)

    op.create_table('iam_users',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('boundary_arn', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.account_id'], ),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('account_id', 'name_key', name='uq_iam_users_name')
    )
    op.create_table('iam_groups',
    sa.Column('group_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('name_key', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.account_id'], ),
    sa.PrimaryKeyConstraint('group_id'),
    sa.UniqueConstraint('account_id', 'name_key', name='uq_iam_groups_name')
    )
    op.create_table('iam_group_members',
    sa.Column('group_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'user_id')
    )
    with op.batch_alter_table('iam_group_members', schema=None) as batch_op:
        batch_op.create_index('ix_iam_group_members_user', ['user_id', 'group_id'], unique=False)

    op.create_table('iam_roles',
    sa.Column('role_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('trust_policy', sa.Text(), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('max_session_duration', sa.Integer(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('boundary_arn', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.account_id'], ),
    sa.PrimaryKeyConstraint('role_id'),
    sa.UniqueConstraint('account_id', 'name_key', name='uq_iam_roles_name')
    )
    op.create_table('iam_policies',
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('name_key', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('default_version', sa.String(length=16), nullable=False),
    sa.Column('next_version', sa.Integer(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.account_id'], ),
    sa.PrimaryKeyConstraint('policy_id'),
    sa.UniqueConstraint('account_id', 'name_key', name='uq_iam_policies_name')
    )
    op.create_table('iam_policy_versions',
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('version_id', sa.String(length=16), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('policy_id', 'version_id')
    )
    op.create_table('iam_attachments',
    sa.Column('entity_kind', sa.String(length=8), nullable=False),
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('policy_arn', sa.String(length=2048), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('entity_kind', 'entity_id', 'policy_arn')
    )
    with op.batch_alter_table('iam_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_iam_attachments_policy', ['account_id', 'policy_arn'], unique=False)

    op.create_table('iam_inline_policies',
    sa.Column('entity_kind', sa.String(length=8), nullable=False),
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('policy_name', sa.String(length=128), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('entity_kind', 'entity_id', 'policy_name')
    )
    op.create_table('iam_sessions',
    sa.Column('access_key_id', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('role_id', sa.String(length=32), nullable=False),
    sa.Column('session_name', sa.String(length=64), nullable=False),
    sa.Column('secret_ciphertext', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('session_policy', sa.Text(), nullable=True),
    sa.Column('session_tags', sa.Text(), nullable=False),
    sa.Column('source_arn', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('access_key_id')
    )
    with op.batch_alter_table('iam_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_iam_sessions_role', ['role_id', 'expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('iam_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_iam_sessions_role')
    op.drop_table('iam_sessions')
    op.drop_table('iam_inline_policies')
    with op.batch_alter_table('iam_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_iam_attachments_policy')
    op.drop_table('iam_attachments')
    op.drop_table('iam_policy_versions')
    op.drop_table('iam_policies')
    op.drop_table('iam_roles')
    with op.batch_alter_table('iam_group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_iam_group_members_user')
    op.drop_table('iam_group_members')
    op.drop_table('iam_groups')
    op.drop_table('iam_users')
    with op.batch_alter_table('access_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_access_keys_user')
        batch_op.drop_column('user_id')
