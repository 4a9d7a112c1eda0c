"""image usage reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:16:33.052291
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_usage_reports',
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('resource_types', sa.Text(), nullable=False),
    sa.Column('account_ids', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.Column('client_token', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('report_id')
    )
    with op.batch_alter_table('image_usage_reports', schema=None) as batch_op:
        batch_op.create_index('ix_usage_reports_owner', ['owner_id', 'region', 'report_id'], unique=False)

    op.create_table('image_usage_entries',
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['image_usage_reports.report_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'resource_type', 'account_id')
    )


def downgrade() -> None:
    op.drop_table('image_usage_entries')
    with op.batch_alter_table('image_usage_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_reports_owner')

    op.drop_table('image_usage_reports')
