"""when an Organizations policy's content last changed (an effective policy's LastUpdatedTimestamp)

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('org_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('org_policies', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
