"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 02:57:39.401658
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_settings',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=256), nullable=False),
    sa.Column('previous_value', sa.String(length=256), nullable=True),
    sa.Column('effective_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'region', 'name')
    )
    op.create_table('accounts',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('email', sa.String(length=256), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('alias', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('usage_counters',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'region', 'name')
    )
    op.create_table('idempotency',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('client_token', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'region', 'operation', 'client_token')
    )
    op.create_table('images',
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('next_state', sa.String(length=16), nullable=True),
    sa.Column('next_state_at', sa.Float(), nullable=True),
    sa.Column('architecture', sa.String(length=16), nullable=False),
    sa.Column('virtualization_type', sa.String(length=16), nullable=False),
    sa.Column('root_device_name', sa.String(length=64), nullable=True),
    sa.Column('root_device_type', sa.String(length=16), nullable=False),
    sa.Column('boot_mode', sa.String(length=32), nullable=True),
    sa.Column('image_type', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=True),
    sa.Column('platform_details', sa.String(length=64), nullable=False),
    sa.Column('usage_operation', sa.String(length=32), nullable=False),
    sa.Column('kernel_id', sa.String(length=32), nullable=True),
    sa.Column('ramdisk_id', sa.String(length=32), nullable=True),
    sa.Column('ena_support', sa.Boolean(), nullable=True),
    sa.Column('sriov_net_support', sa.String(length=16), nullable=True),
    sa.Column('imds_support', sa.String(length=16), nullable=True),
    sa.Column('tpm_support', sa.String(length=16), nullable=True),
    sa.Column('image_location', sa.String(length=256), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('deprecation_time', sa.Float(), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('deregistration_protection', sa.String(length=64), nullable=True),
    sa.Column('last_launched_at', sa.Float(), nullable=True),
    sa.Column('source_image_id', sa.String(length=32), nullable=True),
    sa.Column('source_image_region', sa.String(length=32), nullable=True),
    sa.Column('source_instance_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('image_id'),
    sa.UniqueConstraint('region', 'owner_id', 'name', name='uq_images_owner_name')
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index('ix_images_owner', ['region', 'owner_id', 'image_id'], unique=False)
        batch_op.create_index('ix_images_public', ['region', 'is_public', 'image_id'], unique=False)

    op.create_table('instances',
    sa.Column('instance_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=12), nullable=False),
    sa.Column('reservation_id', sa.String(length=32), nullable=False),
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('instance_type', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('next_state', sa.String(length=16), nullable=True),
    sa.Column('next_state_at', sa.Float(), nullable=True),
    sa.Column('state_reason', sa.String(length=255), nullable=True),
    sa.Column('launch_time', sa.Float(), nullable=False),
    sa.Column('availability_zone', sa.String(length=48), nullable=False),
    sa.Column('private_ip', sa.String(length=16), nullable=False),
    sa.Column('key_name', sa.String(length=255), nullable=True),
    sa.Column('architecture', sa.String(length=16), nullable=False),
    sa.Column('virtualization_type', sa.String(length=16), nullable=False),
    sa.Column('root_device_name', sa.String(length=64), nullable=True),
    sa.Column('root_device_type', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=True),
    sa.Column('platform_details', sa.String(length=64), nullable=True),
    sa.Column('usage_operation', sa.String(length=32), nullable=True),
    sa.Column('boot_mode', sa.String(length=32), nullable=True),
    sa.Column('product_codes', sa.Text(), nullable=True),
    sa.Column('ami_launch_index', sa.Integer(), nullable=False),
    sa.Column('client_token', sa.String(length=64), nullable=True),
    sa.Column('ebs_optimized', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('instance_id')
    )
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.create_index('ix_instances_image', ['image_id', 'region'], unique=False)
        batch_op.create_index('ix_instances_owner', ['region', 'owner_id', 'instance_id'], unique=False)
        batch_op.create_index('ix_instances_reservation', ['reservation_id'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('snapshots',
    sa.Column('snapshot_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=12), nullable=False),
    sa.Column('volume_id', sa.String(length=32), nullable=True),
    sa.Column('volume_size', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('next_state', sa.String(length=16), nullable=True),
    sa.Column('next_state_at', sa.Float(), nullable=True),
    sa.Column('start_time', sa.Float(), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('kms_key_id', sa.String(length=256), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('source_snapshot_id', sa.String(length=32), nullable=True),
    sa.Column('source_region', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('snapshot_id')
    )
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_snapshots_owner', ['region', 'owner_id', 'snapshot_id'], unique=False)
        batch_op.create_index('ix_snapshots_public', ['region', 'is_public', 'snapshot_id'], unique=False)

    op.create_table('tags',
    sa.Column('resource_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('value', sa.String(length=256), nullable=False),
    sa.Column('owner_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('resource_id', 'key')
    )
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.create_index('ix_tags_owner', ['owner_id', 'region', 'resource_id'], unique=False)
        batch_op.create_index('ix_tags_owner_key', ['owner_id', 'region', 'key', 'value'], unique=False)

    op.create_table('volumes',
    sa.Column('volume_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=12), nullable=False),
    sa.Column('availability_zone', sa.String(length=48), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('volume_type', sa.String(length=16), nullable=False),
    sa.Column('iops', sa.Integer(), nullable=True),
    sa.Column('throughput', sa.Integer(), nullable=True),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('kms_key_id', sa.String(length=256), nullable=True),
    sa.Column('snapshot_id', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('next_state', sa.String(length=16), nullable=True),
    sa.Column('next_state_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('multi_attach', sa.Boolean(), nullable=False),
    sa.Column('instance_id', sa.String(length=32), nullable=True),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.Column('attach_time', sa.Float(), nullable=True),
    sa.Column('delete_on_termination', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('volume_id')
    )
    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.create_index('ix_volumes_instance', ['instance_id'], unique=False)
        batch_op.create_index('ix_volumes_owner', ['region', 'owner_id', 'volume_id'], unique=False)

    op.create_table('access_keys',
    sa.Column('access_key_id', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('secret_ciphertext', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.account_id'], ),
    sa.PrimaryKeyConstraint('access_key_id')
    )
    with op.batch_alter_table('access_keys', schema=None) as batch_op:
        batch_op.create_index('ix_access_keys_account', ['account_id'], unique=False)

    op.create_table('image_block_devices',
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('device_name', sa.String(length=64), nullable=True),
    sa.Column('virtual_name', sa.String(length=64), nullable=True),
    sa.Column('no_device', sa.Boolean(), nullable=False),
    sa.Column('snapshot_id', sa.String(length=32), nullable=True),
    sa.Column('volume_size', sa.Integer(), nullable=True),
    sa.Column('volume_type', sa.String(length=16), nullable=True),
    sa.Column('iops', sa.Integer(), nullable=True),
    sa.Column('throughput', sa.Integer(), nullable=True),
    sa.Column('encrypted', sa.Boolean(), nullable=True),
    sa.Column('kms_key_id', sa.String(length=256), nullable=True),
    sa.Column('delete_on_termination', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['image_id'], ['images.image_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'position')
    )
    with op.batch_alter_table('image_block_devices', schema=None) as batch_op:
        batch_op.create_index('ix_image_block_devices_snapshot', ['snapshot_id'], unique=False)

    op.create_table('image_launch_permissions',
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('grantee_type', sa.String(length=24), nullable=False),
    sa.Column('grantee', sa.String(length=256), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.image_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'grantee_type', 'grantee')
    )
    with op.batch_alter_table('image_launch_permissions', schema=None) as batch_op:
        batch_op.create_index('ix_launch_permissions_grantee', ['grantee_type', 'grantee', 'region', 'image_id'], unique=False)

    op.create_table('image_product_codes',
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('product_code', sa.String(length=64), nullable=False),
    sa.Column('product_code_type', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.image_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'product_code')
    )
    with op.batch_alter_table('image_product_codes', schema=None) as batch_op:
        batch_op.create_index('ix_image_product_codes_code', ['product_code'], unique=False)

    op.create_table('snapshot_volume_permissions',
    sa.Column('snapshot_id', sa.String(length=32), nullable=False),
    sa.Column('grantee', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.snapshot_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'grantee')
    )
    with op.batch_alter_table('snapshot_volume_permissions', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_permissions_grantee', ['grantee', 'region', 'snapshot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('snapshot_volume_permissions', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_permissions_grantee')

    op.drop_table('snapshot_volume_permissions')
    with op.batch_alter_table('image_product_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_image_product_codes_code')

    op.drop_table('image_product_codes')
    with op.batch_alter_table('image_launch_permissions', schema=None) as batch_op:
        batch_op.drop_index('ix_launch_permissions_grantee')

    op.drop_table('image_launch_permissions')
    with op.batch_alter_table('image_block_devices', schema=None) as batch_op:
        batch_op.drop_index('ix_image_block_devices_snapshot')

    op.drop_table('image_block_devices')
    with op.batch_alter_table('access_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_access_keys_account')

    op.drop_table('access_keys')
    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.drop_index('ix_volumes_owner')
        batch_op.drop_index('ix_volumes_instance')

    op.drop_table('volumes')
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.drop_index('ix_tags_owner_key')
        batch_op.drop_index('ix_tags_owner')

    op.drop_table('tags')
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshots_public')
        batch_op.drop_index('ix_snapshots_owner')

    op.drop_table('snapshots')
    op.drop_table('meta')
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_index('ix_instances_reservation')
        batch_op.drop_index('ix_instances_owner')
        batch_op.drop_index('ix_instances_image')

    op.drop_table('instances')
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index('ix_images_public')
        batch_op.drop_index('ix_images_owner')

    op.drop_table('images')
    op.drop_table('idempotency')
    op.drop_table('usage_counters')
    op.drop_table('accounts')
    op.drop_table('account_settings')
