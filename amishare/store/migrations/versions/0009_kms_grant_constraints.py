"""grant constraints of KMS grants

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kms_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grant_constraints', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kms_grants', schema=None) as batch_op:
        batch_op.drop_column('grant_constraints')
