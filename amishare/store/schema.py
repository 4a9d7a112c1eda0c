"""Tables of the shared store. Every account's resources live side by side, so a
grant written by one account is visible to another account's request.

Times are epoch seconds (float). Resources with a timed lifecycle carry
`state`, `next_state` and `next_state_at`: the state becomes `next_state` once
`next_state_at` has passed, evaluated when read (see amishare.domain.lifecycle).
"""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ACCOUNT_ID = String(12)
REGION = String(32)
RESOURCE_ID = String(32)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("email", String(256)),
    Column("kind", String(16), nullable=False),  # customer | system
    Column("alias", String(64)),  # owner alias shown on images (amazon, aws-marketplace)
    Column("created_at", Float, nullable=False),
    Index("ix_accounts_email", "email"),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(20), primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("user_id", String(32)),  # the IAM user that owns the key; NULL for the account's root user
    Index("ix_access_keys_account", "account_id"),
    Index("ix_access_keys_user", "user_id"),
)

images = Table(
    "images",
    metadata,
    Column("image_id", RESOURCE_ID, primary_key=True),
    Column("region", REGION, nullable=False),
    Column("owner_id", ACCOUNT_ID, nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(255)),
    Column("state", String(16), nullable=False),
    Column("next_state", String(16)),
    Column("next_state_at", Float),
    Column("architecture", String(16), nullable=False),
    Column("virtualization_type", String(16), nullable=False),
    Column("root_device_name", String(64)),
    Column("root_device_type", String(16), nullable=False),
    Column("boot_mode", String(32)),
    Column("image_type", String(16), nullable=False),
    Column("platform", String(16)),
    Column("platform_details", String(64), nullable=False),
    Column("usage_operation", String(32), nullable=False),
    Column("kernel_id", String(32)),
    Column("ramdisk_id", String(32)),
    Column("ena_support", Boolean),
    Column("sriov_net_support", String(16)),
    Column("imds_support", String(16)),
    Column("tpm_support", String(16)),
    Column("image_location", String(256)),
    Column("created_at", Float, nullable=False),
    Column("deprecation_time", Float),
    Column("is_public", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("deregistration_protection", String(64)),
    Column("last_launched_at", Float),
    Column("source_image_id", RESOURCE_ID),
    Column("source_image_region", REGION),
    Column("source_instance_id", RESOURCE_ID),
    UniqueConstraint("region", "owner_id", "name", name="uq_images_owner_name"),
    Index("ix_images_owner", "region", "owner_id", "image_id"),
    Index("ix_images_public", "region", "is_public", "image_id"),
    Index("ix_images_owner_public", "region", "owner_id", "is_public", "image_id"),
    # Images in transition, by when they settle (the settler finds its work through it).
    Index("ix_images_next_state_at", "next_state_at"),
)

image_block_devices = Table(
    "image_block_devices",
    metadata,
    Column("image_id", RESOURCE_ID, ForeignKey("images.image_id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("device_name", String(64)),
    Column("virtual_name", String(64)),
    Column("no_device", Boolean, nullable=False),
    Column("snapshot_id", RESOURCE_ID),
    Column("volume_size", Integer),
    Column("volume_type", String(16)),
    Column("iops", Integer),
    Column("throughput", Integer),
    Column("encrypted", Boolean),
    Column("kms_key_id", String(256)),
    Column("delete_on_termination", Boolean),
    Index("ix_image_block_devices_snapshot", "snapshot_id"),
)

image_product_codes = Table(
    "image_product_codes",
    metadata,
    Column("image_id", RESOURCE_ID, ForeignKey("images.image_id", ondelete="CASCADE"), primary_key=True),
    Column("product_code", String(64), primary_key=True),
    Column("product_code_type", String(16), nullable=False),
    Index("ix_image_product_codes_code", "product_code"),
)

# grantee_type: account | organization | organizational-unit. Public sharing is
# images.is_public, so the community catalog is one index range.
image_launch_permissions = Table(
    "image_launch_permissions",
    metadata,
    Column("image_id", RESOURCE_ID, ForeignKey("images.image_id", ondelete="CASCADE"), primary_key=True),
    Column("grantee_type", String(24), primary_key=True),
    Column("grantee", String(256), primary_key=True),
    Column("region", REGION, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_launch_permissions_grantee", "grantee_type", "grantee", "region", "image_id"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("snapshot_id", RESOURCE_ID, primary_key=True),
    Column("region", REGION, nullable=False),
    Column("owner_id", ACCOUNT_ID, nullable=False),
    Column("volume_id", RESOURCE_ID),
    Column("volume_size", Integer, nullable=False),
    Column("description", String(255)),
    Column("state", String(16), nullable=False),
    Column("next_state", String(16)),
    Column("next_state_at", Float),
    Column("start_time", Float, nullable=False),
    Column("encrypted", Boolean, nullable=False),
    Column("kms_key_id", String(256)),
    Column("is_public", Boolean, nullable=False),
    Column("source_snapshot_id", RESOURCE_ID),
    Column("source_region", REGION),
    Column("product_codes", Text),  # JSON list of AWS Marketplace codes carried from its source
    # Public, but hidden by the owner's block public access in block-all-sharing mode: is_public
    # is then false and this true, so that unblocking makes it public again.
    Column("public_blocked", Boolean),
    Index("ix_snapshots_owner", "region", "owner_id", "snapshot_id"),
    Index("ix_snapshots_public", "region", "is_public", "snapshot_id"),
)

snapshot_volume_permissions = Table(
    "snapshot_volume_permissions",
    metadata,
    Column("snapshot_id", RESOURCE_ID, ForeignKey("snapshots.snapshot_id", ondelete="CASCADE"), primary_key=True),
    Column("grantee", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, nullable=False),
    Index("ix_snapshot_permissions_grantee", "grantee", "region", "snapshot_id"),
)

volumes = Table(
    "volumes",
    metadata,
    Column("volume_id", RESOURCE_ID, primary_key=True),
    Column("region", REGION, nullable=False),
    Column("owner_id", ACCOUNT_ID, nullable=False),
    Column("availability_zone", String(48), nullable=False),
    Column("size", Integer, nullable=False),
    Column("volume_type", String(16), nullable=False),
    Column("iops", Integer),
    Column("throughput", Integer),
    Column("encrypted", Boolean, nullable=False),
    Column("kms_key_id", String(256)),
    Column("snapshot_id", RESOURCE_ID),
    Column("state", String(16), nullable=False),
    Column("next_state", String(16)),
    Column("next_state_at", Float),
    Column("created_at", Float, nullable=False),
    Column("multi_attach", Boolean, nullable=False),
    Column("instance_id", RESOURCE_ID),
    Column("device", String(64)),
    Column("attach_time", Float),
    Column("delete_on_termination", Boolean),
    Column("product_codes", Text),  # JSON list of AWS Marketplace codes carried from its source
    Index("ix_volumes_owner", "region", "owner_id", "volume_id"),
    Index("ix_volumes_instance", "instance_id"),
)

instances = Table(
    "instances",
    metadata,
    Column("instance_id", RESOURCE_ID, primary_key=True),
    Column("region", REGION, nullable=False),
    Column("owner_id", ACCOUNT_ID, nullable=False),
    Column("reservation_id", RESOURCE_ID, nullable=False),
    Column("image_id", RESOURCE_ID, nullable=False),
    Column("instance_type", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("next_state", String(16)),
    Column("next_state_at", Float),
    Column("state_reason", String(255)),
    Column("launch_time", Float, nullable=False),
    Column("availability_zone", String(48), nullable=False),
    Column("private_ip", String(16), nullable=False),
    Column("key_name", String(255)),
    Column("architecture", String(16), nullable=False),
    Column("virtualization_type", String(16), nullable=False),
    Column("root_device_name", String(64)),
    Column("root_device_type", String(16), nullable=False),
    Column("platform", String(16)),
    Column("platform_details", String(64)),
    Column("usage_operation", String(32)),
    Column("boot_mode", String(32)),
    Column("product_codes", Text),  # JSON list carried over from the image
    Column("ami_launch_index", Integer, nullable=False),
    Column("client_token", String(64)),
    Column("ebs_optimized", Boolean, nullable=False),
    Index("ix_instances_owner", "region", "owner_id", "instance_id"),
    Index("ix_instances_image", "image_id", "region"),
    Index("ix_instances_owner_image", "region", "owner_id", "image_id", "instance_id"),
    Index("ix_instances_reservation", "reservation_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("resource_id", RESOURCE_ID, primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("owner_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("resource_type", String(32), nullable=False),
    Index("ix_tags_owner", "owner_id", "region", "resource_id"),
    Index("ix_tags_owner_key", "owner_id", "region", "key", "value"),
)

account_settings = Table(
    "account_settings",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("previous_value", String(256)),
    Column("effective_at", Float),
)

# Allowed AMIs, per account and Region: the state (enabled, audit-mode; no row is disabled)
# and the image criteria as the API takes them (JSON).
allowed_images_settings = Table(
    "allowed_images_settings",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("criteria", Text, nullable=False),
)

# Recycle Bin retention rules (rbin), per account and Region.
recycle_bin_rules = Table(
    "recycle_bin_rules",
    metadata,
    Column("rule_id", String(16), primary_key=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("resource_type", String(16), nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("description", String(500)),
    Column("resource_tags", Text, nullable=False),  # JSON [[key, value-or-null], ...]
    Column("exclude_tags", Text, nullable=False),
    Column("tags", Text, nullable=False),  # the rule's own tags, JSON
    Column("lock_days", Integer),  # the unlock delay of a locked rule
    Column("lock_state", String(16)),
    Column("lock_end_time", Float),
    Index("ix_recycle_bin_rules_account", "account_id", "region", "resource_type", "rule_id"),
)

# Deregistered images kept by a retention rule: the image as it was (row, block devices,
# product codes, launch permissions, tags; JSON) until it is restored or its time is up.
recycled_images = Table(
    "recycled_images",
    metadata,
    Column("image_id", RESOURCE_ID, primary_key=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(255)),
    Column("entered_at", Float, nullable=False),
    Column("exit_at", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_recycled_images_account", "account_id", "region", "image_id"),
)

# Per-account, per-region counts kept in step with the rows they count, so a
# quota check is one primary-key read whatever the catalog size.
usage_counters = Table(
    "usage_counters",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("operation", String(64), primary_key=True),
    Column("client_token", String(64), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- AWS Organizations. The tree is global (not Regional). Each node keeps the
# ids of its ancestors as a materialized path ("r-ab12/ou-ab12-11111111/"), which
# never changes because OUs cannot be moved; an account's path is its parent's.

organizations = Table(
    "organizations",
    metadata,
    Column("org_id", String(40), primary_key=True),
    Column("management_account_id", ACCOUNT_ID, nullable=False, unique=True),
    Column("feature_set", String(32), nullable=False),
    Column("root_id", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
)

org_units = Table(
    "org_units",
    metadata,
    Column("node_id", String(72), primary_key=True),  # r-... for the root, ou-... for OUs
    Column("org_id", String(40), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # root | ou
    Column("parent_id", String(72)),
    Column("name", String(128), nullable=False),
    Column("path", String(1024), nullable=False),  # ancestors and itself, e.g. "r-ab12/ou-ab12-11111111/"
    Column("created_at", Float, nullable=False),
    Index("ix_org_units_parent", "parent_id", "name"),
    Index("ix_org_units_org_path", "org_id", "path"),  # an OU's subtree, for access analysis
)

org_accounts = Table(
    "org_accounts",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),  # an account belongs to at most one organization
    Column("org_id", String(40), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(72), nullable=False),
    Column("email", String(256), nullable=False),
    Column("name", String(128), nullable=False),
    Column("joined_method", String(16), nullable=False),
    Column("joined_at", Float, nullable=False),
    Index("ix_org_accounts_parent", "parent_id", "account_id"),
    Index("ix_org_accounts_org", "org_id", "account_id"),
)

handshakes = Table(
    "handshakes",
    metadata,
    Column("handshake_id", String(64), primary_key=True),
    Column("org_id", String(40), nullable=False),
    Column("management_account_id", ACCOUNT_ID, nullable=False),
    Column("target_account_id", ACCOUNT_ID, nullable=False),
    Column("state", String(16), nullable=False),
    Column("notes", String(1024)),
    Column("requested_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_handshakes_target", "target_account_id", "requested_at"),
    Index("ix_handshakes_org", "org_id", "requested_at"),
)

create_account_requests = Table(
    "create_account_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("org_id", String(40), nullable=False),
    Column("account_id", ACCOUNT_ID),
    Column("account_name", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("failure_reason", String(64)),
    Column("requested_at", Float, nullable=False),
    Column("completed_at", Float),
)

# Organization policies (service control policies). The AWS managed FullAWSAccess
# policy is built in (it belongs to no organization), so it has no row in
# org_policies; its attachments name it like any other policy.

org_policy_types = Table(
    "org_policy_types",
    metadata,
    Column("org_id", String(40), ForeignKey("organizations.org_id", ondelete="CASCADE"), primary_key=True),
    Column("policy_type", String(48), primary_key=True),  # SERVICE_CONTROL_POLICY, ...
    Column("status", String(16), nullable=False),  # ENABLED
    Column("enabled_at", Float, nullable=False),
)

org_policies = Table(
    "org_policies",
    metadata,
    Column("policy_id", String(130), primary_key=True),
    Column("org_id", String(40), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("policy_type", String(48), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(512), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float),  # when its content last changed; None: never since it was created
    UniqueConstraint("org_id", "policy_type", "name", name="uq_org_policies_name"),
    Index("ix_org_policies_org", "org_id", "policy_type", "policy_id"),
)

# target_id is the root (r-...), an OU (ou-...) or an account id.
org_policy_attachments = Table(
    "org_policy_attachments",
    metadata,
    Column("target_id", String(72), primary_key=True),
    Column("policy_id", String(130), primary_key=True),
    Column("org_id", String(40), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("policy_type", String(48), nullable=False),
    Column("attached_at", Float, nullable=False),
    Index("ix_org_policy_attachments_policy", "org_id", "policy_id", "target_id"),
)

# Tags on Organizations resources: policies, the root, OUs and member accounts.
org_tags = Table(
    "org_tags",
    metadata,
    Column("resource_id", String(130), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("org_id", String(40), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Index("ix_org_tags_org", "org_id", "resource_id"),
)

# Image usage reports: who runs instances from an image, counted when the report is made.
image_usage_reports = Table(
    "image_usage_reports",
    metadata,
    Column("report_id", String(40), primary_key=True),
    Column("image_id", RESOURCE_ID, nullable=False),
    Column("owner_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("resource_types", Text, nullable=False),  # JSON list of {"ResourceType": ...}
    Column("account_ids", Text),  # JSON list, or null for every account
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("client_token", String(64)),
    Index("ix_usage_reports_owner", "owner_id", "region", "report_id"),
)

image_usage_entries = Table(
    "image_usage_entries",
    metadata,
    Column("report_id", String(40), ForeignKey("image_usage_reports.report_id", ondelete="CASCADE"), primary_key=True),
    Column("resource_type", String(32), primary_key=True),
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("usage_count", Integer, nullable=False),
)

# --- AWS KMS (Regional). Keys are addressed by id, ARN or alias; aliases are per account and Region.

kms_keys = Table(
    "kms_keys",
    metadata,
    Column("key_id", String(36), primary_key=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("description", String(8192), nullable=False),
    Column("key_manager", String(16), nullable=False),  # CUSTOMER | AWS
    Column("key_state", String(24), nullable=False),  # Enabled | Disabled | PendingDeletion
    Column("policy", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("deletion_date", Float),
    Index("ix_kms_keys_owner", "account_id", "region", "key_id"),
)

kms_aliases = Table(
    "kms_aliases",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("alias_name", String(256), primary_key=True),
    Column("key_id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_kms_aliases_key", "key_id"),
)

kms_grants = Table(
    "kms_grants",
    metadata,
    Column("grant_id", String(64), primary_key=True),
    Column("key_id", String(36), nullable=False),
    Column("grantee_principal", String(2048), nullable=False),
    Column("retiring_principal", String(2048)),
    Column("operations", Text, nullable=False),  # JSON list
    Column("name", String(256)),
    Column("issuing_account", ACCOUNT_ID, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("grant_constraints", Text),  # JSON {"EncryptionContextSubset"|"EncryptionContextEquals": {...}}
    Index("ix_kms_grants_key", "key_id", "grant_id"),
)

# --- IAM (global). Names are unique per account regardless of case (`name_key` is the
# lower-cased name); tags are a JSON list of [key, value] pairs kept on the entity row so
# that resolving an access key to its principal is one indexed read.

IAM_ID = String(32)
ARN = String(2048)

def _iam_entity(name: str, id_column: str, name_length: int, *columns) -> Table:
    """A user, group, role or customer managed policy: an id, its account, a name unique in
    the account regardless of case, a path."""
    return Table(
        name,
        metadata,
        Column(id_column, IAM_ID, primary_key=True),
        Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
        Column("name", String(name_length), nullable=False),
        Column("name_key", String(name_length), nullable=False),
        Column("path", String(512), nullable=False),
        *columns,
        Column("created_at", Float, nullable=False),
        UniqueConstraint("account_id", "name_key", name=f"uq_{name}_name"),
    )


iam_users = _iam_entity(  # user_id AIDA...
    "iam_users", "user_id", 64,
    Column("tags", Text, nullable=False),
    Column("boundary_arn", ARN),
)

# An IAM user's console password (CreateLoginProfile): a salted scrypt hash, never the password.
iam_login_profiles = Table(
    "iam_login_profiles",
    metadata,
    Column("user_id", IAM_ID, primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("password_reset_required", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
)

iam_groups = _iam_entity("iam_groups", "group_id", 128)  # AGPA...

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_id", IAM_ID, primary_key=True),
    Column("user_id", IAM_ID, primary_key=True),
    Index("ix_iam_group_members_user", "user_id", "group_id"),
)

iam_roles = _iam_entity(  # role_id AROA...
    "iam_roles", "role_id", 64,
    Column("trust_policy", Text, nullable=False),
    Column("description", String(1000)),
    Column("max_session_duration", Integer, nullable=False),
    Column("tags", Text, nullable=False),
    Column("boundary_arn", ARN),
)

# Customer managed policies; the AWS managed ones are built in (domain/aws_policies.py).
iam_policies = _iam_entity(  # policy_id ANPA...
    "iam_policies", "policy_id", 128,
    Column("description", String(1000)),
    Column("default_version", String(16), nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("tags", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column("policy_id", IAM_ID, primary_key=True),
    Column("version_id", String(16), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Managed policies attached to users, groups and roles (entity_kind user | group | role).
iam_attachments = Table(
    "iam_attachments",
    metadata,
    Column("entity_kind", String(8), primary_key=True),
    Column("entity_id", IAM_ID, primary_key=True),
    Column("policy_arn", ARN, primary_key=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Index("ix_iam_attachments_policy", "account_id", "policy_arn"),
)

iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("entity_kind", String(8), primary_key=True),
    Column("entity_id", IAM_ID, primary_key=True),
    Column("policy_name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

# STS sessions: temporary credentials of an assumed role. The session token is kept as
# its SHA-256, the secret sealed like every other secret.
iam_sessions = Table(
    "iam_sessions",
    metadata,
    Column("access_key_id", String(20), primary_key=True),  # ASIA...
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("role_id", IAM_ID, nullable=False),
    Column("session_name", String(64), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("session_policy", Text),  # the session policies, merged into one document
    Column("session_tags", Text, nullable=False),
    Column("source_arn", ARN, nullable=False),  # who assumed the role
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_iam_sessions_role", "role_id", "expires_at"),
)

# The audit trail: one CloudTrail management event per call, in the account that receives
# it (the caller's, and a copy in a resource owner's account for calls on its resources).
# `record` is the event as CloudTrail writes it; the other columns are what LookupEvents
# looks up by, each index ending in (event_time, event_id): newest first, a page at a time.
trail_events = Table(
    "trail_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("account_id", ACCOUNT_ID, nullable=False),  # recipientAccountId
    Column("region", REGION, nullable=False),
    Column("event_time", Float, nullable=False),
    Column("event_name", String(64), nullable=False),
    Column("event_source", String(64), nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("username", String(128)),
    Column("access_key_id", String(32)),
    Column("record", Text, nullable=False),
    Index("ix_trail_events_account", "account_id", "region", "event_time", "event_id"),
    Index("ix_trail_events_name", "account_id", "region", "event_name", "event_time", "event_id"),
    Index("ix_trail_events_source", "account_id", "region", "event_source", "event_time", "event_id"),
    Index("ix_trail_events_read_only", "account_id", "region", "read_only", "event_time", "event_id"),
    Index("ix_trail_events_username", "account_id", "region", "username", "event_time", "event_id"),
    Index("ix_trail_events_key", "account_id", "region", "access_key_id", "event_time", "event_id"),
    Index("ix_trail_events_time", "event_time"),  # retention: the oldest first
)

# The resources an event names (LookupEvents' ResourceType and ResourceName).
trail_resources = Table(
    "trail_resources",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("resource_type", String(64), primary_key=True),
    Column("resource_name", String(256), primary_key=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("event_time", Float, nullable=False),
    Index("ix_trail_resources_name", "account_id", "region", "resource_name", "event_time", "event_id"),
    Index("ix_trail_resources_type", "account_id", "region", "resource_type", "event_time", "event_id"),
    Index("ix_trail_resources_time", "event_time"),
)

# --- EventBridge: rules and targets of each account's default event bus, connections and
# API destinations, and the outbox of deliveries (one row per event and target, written in
# the transaction that produced the event).

event_rules = Table(
    "event_rules",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("event_pattern", Text),
    Column("state", String(48), nullable=False),
    Column("description", String(512)),
    Column("role_arn", ARN),
    Column("created_at", Float, nullable=False),
)

event_targets = Table(
    "event_targets",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("rule_name", String(64), primary_key=True),
    Column("target_id", String(64), primary_key=True),
    Column("arn", ARN, nullable=False),
    Column("config", Text, nullable=False),  # the target as PutTargets gave it, JSON
)

event_connections = Table(
    "event_connections",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("arn", ARN, nullable=False),
    Column("description", String(512)),
    Column("authorization_type", String(32), nullable=False),
    Column("auth_public", Text, nullable=False),  # AuthParameters without their secrets, JSON
    Column("auth_sealed", Text, nullable=False),  # the secrets, sealed with the SecretBox
    Column("state", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
)

event_api_destinations = Table(
    "event_api_destinations",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("arn", ARN, nullable=False),
    Column("description", String(512)),
    Column("connection_arn", ARN, nullable=False),
    Column("endpoint", String(2048), nullable=False),
    Column("http_method", String(8), nullable=False),
    Column("rate_limit", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
)

# A delivery waiting to be made. `due_at` is when a worker may take it: a worker claims a
# row by moving `due_at` past its lease (so a crashed worker's claim lapses by itself) and
# writing its `lease_owner`; one index serves both new and abandoned rows.
event_outbox = Table(
    "event_outbox",
    metadata,
    Column("delivery_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("rule_name", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("target_arn", ARN, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("body", Text, nullable=False),  # what the target receives (the event, or its transformed input)
    Column("target", Text, nullable=False),  # the target's settings at the time of the event, JSON
    Column("created_at", Float, nullable=False),
    Column("due_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(64)),
    Column("last_error", String(512)),
    Index("ix_event_outbox_due", "due_at"),
)

# Deliveries given up on (retries or event age exhausted, or a failure not worth retrying),
# with the dead-letter queue ARN the target named, if any.
event_dead_letters = Table(
    "event_dead_letters",
    metadata,
    Column("dead_letter_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, nullable=False),
    Column("region", REGION, nullable=False),
    Column("rule_name", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("target_arn", ARN, nullable=False),
    Column("dead_letter_arn", ARN),
    Column("event_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("error_code", String(64), nullable=False),
    Column("error_message", String(512)),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", Float, nullable=False),
    Index("ix_event_dead_letters_account", "account_id", "region", "dead_letter_id"),
    Index("ix_event_dead_letters_failed", "failed_at"),
)
