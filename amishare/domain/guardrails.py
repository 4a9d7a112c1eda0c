"""Guardrails on sharing: block public access, images that can't be public or
shared, deprecation, disabled images and deregistration protection."""

import math
from datetime import datetime, timezone

from amishare.domain import access, declarative_policies, events, keys
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import settings as settings_store
from amishare.store import snapshots as snapshot_store

BPA_SETTING = "image-block-public-access"
BLOCKED, UNBLOCKED = "block-new-sharing", "unblocked"
TWO_YEARS = 2 * 365 * 86400
TEN_YEARS = 10 * 365 * 86400
COOLDOWN = 24 * 3600


# --- block public access
#
# An account's own setting, unless a declarative policy for EC2 of its organization sets the
# attribute: then the policy's state applies in every Region, the account can't change it,
# and its own setting is kept for when the policy no longer applies.

ACCOUNT, DECLARATIVE_POLICY = "account", "declarative-policy"


def block_public_access_state(ctx, account_id=None, region=None) -> str:
    return (declarative_policies.effective(ctx, account_id).image_block_public_access
            or _own_block_public_access_state(ctx, account_id, region))


def block_public_access_managed_by(ctx) -> str:
    return DECLARATIVE_POLICY if declarative_policies.effective(ctx).image_block_public_access else ACCOUNT


def _own_block_public_access_state(ctx, account_id=None, region=None) -> str:
    account_id, region = account_id or ctx.account_id, region or ctx.region
    row = settings_store.get_setting(ctx.conn, account_id, region, BPA_SETTING)
    default = BLOCKED if ctx.settings.block_public_access_default else UNBLOCKED
    if row is None:
        return default
    if row["effective_at"] is not None and row["effective_at"] > ctx.now:
        return row["previous_value"] or default
    return row["value"]


def set_block_public_access(ctx, value: str) -> str:
    if declarative_policies.effective(ctx).image_block_public_access:
        raise declarative_policies.refuse_change(ctx)
    current = _own_block_public_access_state(ctx)
    delay = ctx.settings.block_public_access_delay
    settings_store.put_setting(ctx.conn, ctx.account_id, ctx.region, BPA_SETTING, value, previous_value=current,
                               effective_at=ctx.now + delay if delay > 0 else None)
    return value


# --- block public access for snapshots

SNAPSHOT_BPA_SETTING = "snapshot-block-public-access"
BLOCK_ALL = "block-all-sharing"


def snapshot_block_public_access_state(ctx, account_id=None, region=None) -> str:
    return (declarative_policies.effective(ctx, account_id).snapshot_block_public_access
            or own_snapshot_block_public_access_state(ctx.conn, account_id or ctx.account_id, region or ctx.region))


def snapshot_block_public_access_managed_by(ctx) -> str:
    return DECLARATIVE_POLICY if declarative_policies.effective(ctx).snapshot_block_public_access else ACCOUNT


def own_snapshot_block_public_access_state(conn, account_id, region) -> str:
    row = settings_store.get_setting(conn, account_id, region, SNAPSHOT_BPA_SETTING)
    return row["value"] if row is not None else UNBLOCKED


def set_snapshot_block_public_access(ctx, value: str) -> str:
    """block-all-sharing hides the account's public snapshots in the Region, keeping their
    permission; block-new-sharing and unblocked make them public again."""
    if declarative_policies.effective(ctx).snapshot_block_public_access:
        raise declarative_policies.refuse_change(ctx)
    current = own_snapshot_block_public_access_state(ctx.conn, ctx.account_id, ctx.region)
    if value == current:
        return value
    settings_store.put_setting(ctx.conn, ctx.account_id, ctx.region, SNAPSHOT_BPA_SETTING, value, previous_value=current)
    if value == BLOCK_ALL:
        snapshot_store.hide_public(ctx.conn, ctx.account_id, ctx.region)
    elif current == BLOCK_ALL:
        snapshot_store.restore_public(ctx.conn, ctx.account_id, ctx.region)
    return value


def enable_snapshot_block_public_access(ctx, value: str) -> str:
    if value not in (BLOCKED, BLOCK_ALL):
        raise AwsError("InvalidParameterValue", f"Value ({value}) for parameter State is invalid. "
                                                "Valid values are block-all-sharing and block-new-sharing.")
    return set_snapshot_block_public_access(ctx, value)


def check_snapshot_can_be_public(ctx, snapshot) -> None:
    state = snapshot_block_public_access_state(ctx, snapshot["owner_id"], snapshot["region"])
    if state != UNBLOCKED and declarative_policies.effective(ctx, snapshot["owner_id"]).snapshot_block_public_access:
        raise declarative_policies.refuse_change(ctx)
    if state != UNBLOCKED:
        raise AwsError(
            "OperationNotPermitted",
            f"You can't publicly share snapshot {snapshot['snapshot_id']} because block public access for snapshots "
            f"is enabled ({state}) for this account in {snapshot['region']}. "
            "Disable it with DisableSnapshotBlockPublicAccess to share publicly.",
        )


# --- what can be shared, and how


def _encrypted_devices(ctx, image) -> list:
    devices = image_store.block_devices(ctx.conn, [image["image_id"]])[image["image_id"]]
    return [d for d in devices if d["encrypted"]]


def check_shareable(ctx, image) -> None:
    """Sharing with accounts, organizations or OUs: not a disabled image, not one under the default EBS key."""
    if image["disabled"]:
        raise AwsError("OperationNotPermitted", f"The image {image['image_id']} is disabled and can't be shared. Enable it first.")
    default_key = keys.existing_default_ebs_key_arn(ctx, image["owner_id"], image["region"])
    if default_key and any(d["kms_key_id"] == default_key for d in _encrypted_devices(ctx, image)):
        raise AwsError(
            "OperationNotPermitted",
            f"The image {image['image_id']} is backed by snapshots encrypted with the default AWS managed key "
            "(alias/aws/ebs), and can't be shared. Copy it with a customer managed key and share the copy.",
        )


def check_can_be_public(ctx, image) -> None:
    check_shareable(ctx, image)
    if block_public_access_state(ctx) == BLOCKED and declarative_policies.effective(ctx).image_block_public_access:
        raise declarative_policies.refuse_change(ctx)
    if block_public_access_state(ctx) == BLOCKED:
        raise AwsError(
            "OperationNotPermitted",
            "You can't publicly share this image because block public access for AMIs is enabled for this account "
            f"in {ctx.region}. Disable it with DisableImageBlockPublicAccess to share publicly.",
        )
    if image_store.product_codes(ctx.conn, [image["image_id"]])[image["image_id"]]:
        raise AwsError("OperationNotPermitted",
                       f"The image {image['image_id']} has a product code and can't be made public. "
                       "Share it with specific accounts, organizations or OUs instead.")
    if _encrypted_devices(ctx, image):
        raise AwsError("OperationNotPermitted",
                       f"The image {image['image_id']} has encrypted snapshots and can't be made public. "
                       "Share it with specific accounts, organizations or OUs instead.")


def public_deprecation(image) -> float:
    """Deprecation a public image must have: no later than two years after its creation."""
    cap = image["created_at"] + TWO_YEARS
    current = image["deprecation_time"]
    return cap if current is None or current > cap else current


# --- deprecation


def _deprecate_at(ctx, value: datetime) -> float:
    seconds = value.timestamp()
    rounded = math.floor(seconds / 60 + 0.5) * 60
    if rounded < ctx.now:
        raise AwsError("InvalidParameterValue", "The deprecation time can't be in the past.")
    if rounded > ctx.now + TEN_YEARS:
        raise AwsError("InvalidParameterValue", "The deprecation time can't be more than 10 years in the future.")
    return float(rounded)


def enable_deprecation(ctx, image_id, deprecate_at: datetime) -> None:
    image = access.find_owned(ctx, image_id)
    when = _deprecate_at(ctx, deprecate_at)
    if image["is_public"]:
        limit = public_deprecation(image)
        if when > limit:
            raise AwsError(
                "InvalidParameterValue",
                "A public AMI must be deprecated within two years of its creation "
                f"({datetime.fromtimestamp(limit, timezone.utc).isoformat()}); to set a later date, make it private first.",
            )
    image_store.update_image(ctx.conn, image_id, deprecation_time=when)


def disable_deprecation(ctx, image_id) -> None:
    image = access.find_owned(ctx, image_id)
    if image["is_public"]:
        raise AwsError("OperationNotPermitted",
                       "The deprecation of a public AMI can't be cancelled; make the AMI private first.")
    image_store.update_image(ctx.conn, image_id, deprecation_time=None)


# --- disable / enable


def disable_image(ctx, image_id) -> None:
    from amishare.domain import sharing

    image = access.find_owned(ctx, image_id)
    if image["disabled"]:
        return
    events.settle_before_change(ctx, image)
    image_store.clear_launch_permissions(ctx.conn, image_id)
    sharing.set_public(ctx, image, False)
    image_store.update_image(ctx.conn, image_id, disabled=True, state="disabled", next_state=None, next_state_at=None)
    events.image_state_changed(ctx.conn, image_id, image["region"], image["owner_id"], "disabled", ctx.request_id,
                               ctx.now)


def enable_image(ctx, image_id) -> None:
    image = access.find_owned(ctx, image_id)
    if not image["disabled"]:
        return
    image_store.update_image(ctx.conn, image_id, disabled=False, state="available", next_state=None, next_state_at=None)
    events.image_state_changed(ctx.conn, image_id, image["region"], image["owner_id"], "available", ctx.request_id,
                               ctx.now)


# --- deregistration protection
#
# States as EC2 names them (clients compare these strings): "disabled",
# "enabled-with-cooldown", "enabled-without-cooldown", and, for 24 hours after protection
# enabled with a cooldown is disabled, "disabled-until <ISO 8601 time>" (still protected).

ENABLED_WITH_COOLDOWN, ENABLED_WITHOUT_COOLDOWN, DISABLED = "enabled-with-cooldown", "enabled-without-cooldown", "disabled"
_LEGACY = {"enabled": ENABLED_WITHOUT_COOLDOWN}


def protection_state(image, now) -> str:
    value = image["deregistration_protection"] or DISABLED
    value = _LEGACY.get(value, value)
    if value.startswith("disabled-until "):
        until = datetime.fromisoformat(value.split(" ", 1)[1].replace("Z", "+00:00")).timestamp()
        return DISABLED if until <= now else value
    return value


def is_protected(image, now) -> bool:
    return protection_state(image, now) != DISABLED


def enable_protection(ctx, image_id, with_cooldown: bool) -> str:
    access.find_owned(ctx, image_id)
    value = ENABLED_WITH_COOLDOWN if with_cooldown else ENABLED_WITHOUT_COOLDOWN
    image_store.update_image(ctx.conn, image_id, deregistration_protection=value)
    return value


def disable_protection(ctx, image_id) -> str:
    """The state the image is left in: "disabled", or "disabled-until ..." during a cooldown."""
    image = access.find_owned(ctx, image_id)
    state = protection_state(image, ctx.now)
    if state == ENABLED_WITH_COOLDOWN:
        until = datetime.fromtimestamp(ctx.now + COOLDOWN, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        value = f"disabled-until {until}"
    elif state.startswith("disabled-until "):
        value = state
    else:
        value = DISABLED
    image_store.update_image(ctx.conn, image_id, deregistration_protection=value)
    return value
