"""Recycle Bin: retention rules and recycled images

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recycle_bin_rules',
        sa.Column('rule_id', sa.String(length=16), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('resource_type', sa.String(length=16), nullable=False),
        sa.Column('retention_days', sa.Integer(), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=True),
        sa.Column('resource_tags', sa.Text(), nullable=False),
        sa.Column('exclude_tags', sa.Text(), nullable=False),
        sa.Column('tags', sa.Text(), nullable=False),
        sa.Column('lock_days', sa.Integer(), nullable=True),
        sa.Column('lock_state', sa.String(length=16), nullable=True),
        sa.Column('lock_end_time', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('rule_id'),
    )
    with op.batch_alter_table('recycle_bin_rules', schema=None) as batch_op:
        batch_op.create_index('ix_recycle_bin_rules_account', ['account_id', 'region', 'resource_type', 'rule_id'],
                              unique=False)
    op.create_table(
        'recycled_images',
        sa.Column('image_id', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('entered_at', sa.Float(), nullable=False),
        sa.Column('exit_at', sa.Float(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('image_id'),
    )
    with op.batch_alter_table('recycled_images', schema=None) as batch_op:
        batch_op.create_index('ix_recycled_images_account', ['account_id', 'region', 'image_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recycled_images', schema=None) as batch_op:
        batch_op.drop_index('ix_recycled_images_account')
    op.drop_table('recycled_images')
    with op.batch_alter_table('recycle_bin_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_recycle_bin_rules_account')
    op.drop_table('recycle_bin_rules')
