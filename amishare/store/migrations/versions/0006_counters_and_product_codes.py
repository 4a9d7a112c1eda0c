"""usage counters for running instances and volumes; product codes of snapshots and volumes

Revision ID: 0006
Revises: 0005

The running-instance and volume quotas read counters kept on every change; this
fills them for instances and volumes created before they were kept. Snapshots and
volumes carry the AWS Marketplace product codes of what they were made from.
"""
import time

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_counters = sa.table('usage_counters', sa.column('account_id'), sa.column('region'), sa.column('name'),
                     sa.column('value'))
_instances = sa.table('instances', sa.column('owner_id'), sa.column('region'), sa.column('state'),
                      sa.column('next_state'), sa.column('next_state_at'))
_volumes = sa.table('volumes', sa.column('owner_id'), sa.column('region'))


def _fill(name, table, *where):
    query = sa.select(table.c.owner_id, table.c.region, sa.literal(name), sa.func.count()).where(*where).group_by(
        table.c.owner_id, table.c.region)
    op.execute(_counters.delete().where(_counters.c.name == name))
    op.execute(_counters.insert().from_select(['account_id', 'region', 'name', 'value'], query))


def upgrade() -> None:
    for table in ('snapshots', 'volumes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('product_codes', sa.Text(), nullable=True))
    settled = sa.case(
        (sa.and_(_instances.c.next_state.is_not(None), _instances.c.next_state_at <= time.time()), _instances.c.next_state),
        else_=_instances.c.state,
    )
    _fill('instances', _instances, settled.in_(['pending', 'running']))
    _fill('volumes', _volumes)


def downgrade() -> None:
    op.execute(_counters.delete().where(_counters.c.name.in_(['instances', 'volumes'])))
    for table in ('snapshots', 'volumes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('product_codes')
