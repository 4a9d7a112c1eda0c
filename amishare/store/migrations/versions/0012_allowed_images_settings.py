"""Allowed AMIs settings

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'allowed_images_settings',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('criteria', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region'),
    )


def downgrade() -> None:
    op.drop_table('allowed_images_settings')
