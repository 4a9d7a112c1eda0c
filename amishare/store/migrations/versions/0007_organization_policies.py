"""organization policies: policy types enabled in a root, policies, attachments, tags

Revision ID: 0007
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_policy_types',
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('policy_type', sa.String(length=48), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enabled_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.org_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'policy_type')
    )
    op.create_table('org_policies',
    sa.Column('policy_id', sa.String(length=130), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('policy_type', sa.String(length=48), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.String(length=512), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.org_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('policy_id'),
    sa.UniqueConstraint('org_id', 'policy_type', 'name', name='uq_org_policies_name')
    )
    with op.batch_alter_table('org_policies', schema=None) as batch_op:
        batch_op.create_index('ix_org_policies_org', ['org_id', 'policy_type', 'policy_id'], unique=False)

    op.create_table('org_policy_attachments',
    sa.Column('target_id', sa.String(length=72), nullable=False),
    sa.Column('policy_id', sa.String(length=130), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('policy_type', sa.String(length=48), nullable=False),
    sa.Column('attached_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.org_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('target_id', 'policy_id')
    )
    with op.batch_alter_table('org_policy_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_org_policy_attachments_policy', ['org_id', 'policy_id', 'target_id'], unique=False)

    op.create_table('org_tags',
    sa.Column('resource_id', sa.String(length=130), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('value', sa.String(length=256), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.org_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resource_id', 'key')
    )
    with op.batch_alter_table('org_tags', schema=None) as batch_op:
        batch_op.create_index('ix_org_tags_org', ['org_id', 'resource_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('org_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_org_tags_org')
    op.drop_table('org_tags')
    with op.batch_alter_table('org_policy_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_org_policy_attachments_policy')
    op.drop_table('org_policy_attachments')
    with op.batch_alter_table('org_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_org_policies_org')
    op.drop_table('org_policies')
    op.drop_table('org_policy_types')
