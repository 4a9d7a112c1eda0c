"""Launch permissions of images and create-volume permissions of snapshots.

Only the owner changes or reads them; recipients can only launch (and cancel
their own explicit grant). Validation covers the whole request before anything
is written, so one bad entry changes nothing.
"""

import re

from amishare.domain import access, guardrails, ids, keys, ownership, productcodes
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import settings as settings_store
from amishare.store import snapshots as snapshot_store

# Matched whole and in ASCII (see amishare.domain.ids).
ORG_ARN_RE = re.compile(r"arn:aws:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}")
OU_ARN_RE = re.compile(r"arn:aws:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
PUBLIC_COUNT = "public_images"
ACCOUNT = "account"
ORGANIZATION = "organization"
OU = "organizational-unit"


def _bad_item(value: str, kind: str) -> AwsError:
    return AwsError("InvalidAMIAttributeItemValue", f'Invalid attribute item value "{value}" for {kind} item type.')


def parse_permissions(entries) -> tuple[bool, list[tuple[str, str]]]:
    """(adds the `all` group?, explicit grantees) from LaunchPermission entries, all validated."""
    public, grantees = False, []
    for entry in entries or ():
        given = [k for k in ("UserId", "Group", "OrganizationArn", "OrganizationalUnitArn") if entry.get(k) is not None]
        if len(given) != 1:
            raise AwsError("InvalidParameterCombination",
                           "Each launch permission must specify exactly one of UserId, Group, OrganizationArn or "
                           "OrganizationalUnitArn.")
        kind = given[0]
        value = entry[kind]
        if kind == "UserId":
            if not ids.is_account_id(value):
                raise _bad_item(value, "userId")
            grantees.append((ACCOUNT, value))
        elif kind == "Group":
            if value != "all":
                raise _bad_item(value, "group")
            public = True
        elif kind == "OrganizationArn":
            if not ORG_ARN_RE.fullmatch(value):
                raise AwsError("InvalidParameter",
                               f"The organization ARN '{value}' is not valid. Specify the full ARN, for example "
                               "arn:aws:organizations::123456789012:organization/o-123example.")
            grantees.append((ORGANIZATION, value))
        else:
            if not OU_ARN_RE.fullmatch(value):
                raise AwsError("InvalidParameter",
                               f"The organizational unit ARN '{value}' is not valid. Specify the full ARN, for example "
                               "arn:aws:organizations::123456789012:ou/o-123example/ou-1234-5example.")
            grantees.append((OU, value))
    return public, grantees


def legacy_launch_permission(params) -> dict:
    """The pre-structure request form (Attribute, OperationType, UserIds, UserGroups, ...) as Add/Remove lists."""
    entries = (
        [{"UserId": u} for u in params.get("UserIds") or ()]
        + [{"Group": g} for g in params.get("UserGroups") or ()]
        + [{"OrganizationArn": a} for a in params.get("OrganizationArns") or ()]
        + [{"OrganizationalUnitArn": a} for a in params.get("OrganizationalUnitArns") or ()]
    )
    operation = params.get("OperationType")
    if operation not in ("add", "remove"):
        raise AwsError("MissingParameter", "The request must contain the parameter OperationType (add or remove).")
    if not entries:
        raise AwsError("MissingParameter", "The request must contain the parameter userId, userGroup, "
                                           "organizationArn or organizationalUnitArn.")
    return {"Add": entries} if operation == "add" else {"Remove": entries}


def modify_image_attribute(ctx, params) -> None:
    image = access.find_owned(ctx, params["ImageId"])
    image_store.lock(ctx.conn, image["image_id"])
    image = image_store.get(ctx.conn, image["image_id"])  # as of the lock
    attribute = params.get("Attribute")
    changes = params.get("LaunchPermission")
    legacy_keys = ("UserIds", "UserGroups", "OrganizationArns", "OrganizationalUnitArns", "OperationType")
    if changes is None and (attribute == "launchPermission" or any(params.get(k) for k in legacy_keys)):
        changes = legacy_launch_permission(params)
    description = params.get("Description")
    if description is None and attribute == "description":
        description = {"Value": params.get("Value")}
    if changes is not None:
        _modify_launch_permission(ctx, image, changes)
    elif description is not None:
        value = description.get("Value")
        if value is not None and len(value) > 255:
            raise AwsError("InvalidParameterValue", "The description must be at most 255 characters long.")
        image_store.update_image(ctx.conn, image["image_id"], description=value)
    elif params.get("ImdsSupport") is not None or attribute == "imdsSupport":
        value = (params.get("ImdsSupport") or {}).get("Value") or params.get("Value")
        if value != "v2.0":
            raise AwsError("InvalidParameterValue", f"Value ({value}) for parameter imdsSupport is invalid. Expected: 'v2.0'.")
        image_store.update_image(ctx.conn, image["image_id"], imds_support=value)
    elif attribute is not None:
        raise AwsError("InvalidParameterValue", f"Value ({attribute}) for parameter attribute is invalid. "
                                                "Modifiable attributes are launchPermission, description and imdsSupport.")
    else:
        raise AwsError("MissingParameter", "The request must contain the parameter Attribute, LaunchPermission or Description")


def _modify_launch_permission(ctx, image, changes) -> None:
    add_public, add = parse_permissions(changes.get("Add"))
    remove_public, remove = parse_permissions(changes.get("Remove"))
    image_id = image["image_id"]
    new_accounts = {g for g in add if g[0] == ACCOUNT}
    if new_accounts:
        existing = image_store.count_account_grants(ctx.conn, image_id)
        if existing + len(new_accounts) > ctx.settings.max_launch_permission_accounts:
            current = {(r["grantee_type"], r["grantee"]) for r in image_store.launch_permissions(ctx.conn, image_id)}
            if existing + len(new_accounts - current) > ctx.settings.max_launch_permission_accounts:
                raise AwsError(
                    "ResourceLimitExceeded",
                    f"The AMI {image_id} can be shared with at most {ctx.settings.max_launch_permission_accounts} "
                    "accounts (AMIs shared per Region quota).",
                )
    if add:
        guardrails.check_shareable(ctx, image)
    if add_public and not image["is_public"]:
        guardrails.check_can_be_public(ctx, image)
        check_public_quota(ctx, image)
    image_store.add_launch_permissions(ctx.conn, image_id, image["region"], add, ctx.now)
    image_store.remove_launch_permissions(ctx.conn, image_id, remove)
    public = (image["is_public"] or add_public) and not remove_public
    set_public(ctx, image, public)


def check_public_quota(ctx, image) -> None:
    count = settings_store.counter(ctx.conn, image["owner_id"], image["region"], PUBLIC_COUNT)
    if count >= ctx.settings.max_public_images:
        raise AwsError(
            "ResourceLimitExceeded",
            f"You have reached the quota of {ctx.settings.max_public_images} public AMIs per Region (Public AMIs).",
        )


def set_public(ctx, image, public: bool) -> None:
    """Public images are deprecated within two years of creation, as AWS sets for them."""
    if bool(image["is_public"]) == public:
        return
    values = {"is_public": public}
    if public:
        values["deprecation_time"] = guardrails.public_deprecation(image)
    image_store.update_image(ctx.conn, image["image_id"], **values)
    settings_store.add_to_counter(ctx.conn, image["owner_id"], image["region"], PUBLIC_COUNT, 1 if public else -1)


def reset_image_attribute(ctx, image_id, attribute) -> None:
    image = access.find_owned(ctx, image_id)
    if attribute != "launchPermission":
        raise AwsError("InvalidParameterValue", f"Value ({attribute}) for parameter attribute is invalid. "
                                                "Only launchPermission can be reset.")
    image_store.clear_launch_permissions(ctx.conn, image_id)
    set_public(ctx, image, False)


def cancel_launch_permission(ctx, image_id) -> None:
    image = access.find_visible(ctx, image_id)
    if image["owner_id"] == ctx.account_id:
        raise AwsError("InvalidParameterValue", f"You own {image_id}; only a recipient can cancel its launch permission.")
    image_store.remove_launch_permissions(ctx.conn, image_id, [(ACCOUNT, ctx.account_id)])


def launch_permission_entries(ctx, image) -> list[dict]:
    entries = [{"Group": "all"}] if image["is_public"] else []
    key = {ACCOUNT: "UserId", ORGANIZATION: "OrganizationArn", OU: "OrganizationalUnitArn"}
    for row in image_store.launch_permissions(ctx.conn, image["image_id"]):
        entries.append({key[row["grantee_type"]]: row["grantee"]})
    return entries


# --- snapshots


def _parse_volume_permissions(entries) -> tuple[bool, list[str]]:
    public, accounts = False, []
    for entry in entries or ():
        if entry.get("Group") is not None:
            if entry["Group"] != "all":
                raise AwsError("InvalidParameterValue", f"Invalid group name: {entry['Group']}")
            public = True
        elif entry.get("UserId") is not None:
            if not ids.is_account_id(entry["UserId"]):
                raise AwsError("InvalidParameterValue", f"Invalid user id: {entry['UserId']}")
            accounts.append(entry["UserId"])
        else:
            raise AwsError("InvalidParameterCombination", "Each create volume permission needs a UserId or Group.")
    return public, accounts


def modify_snapshot_attribute(ctx, params) -> None:
    snapshot = ownership.owned_snapshot(ctx, params["SnapshotId"])
    attribute = params.get("Attribute")
    if attribute not in (None, "createVolumePermission"):
        raise AwsError("InvalidParameterValue", f"Value ({attribute}) for parameter attribute is invalid. "
                                                "Only createVolumePermission can be modified.")
    changes = params.get("CreateVolumePermission")
    if changes is None:
        entries = [{"UserId": u} for u in params.get("UserIds") or ()] + [{"Group": g} for g in params.get("GroupNames") or ()]
        operation = params.get("OperationType")
        if operation not in ("add", "remove") or not entries:
            raise AwsError("MissingParameter", "The request must contain the parameter CreateVolumePermission")
        changes = {"Add": entries} if operation == "add" else {"Remove": entries}
    add_public, add = _parse_volume_permissions(changes.get("Add"))
    remove_public, remove = _parse_volume_permissions(changes.get("Remove"))
    if add_public and snapshot["encrypted"]:
        raise AwsError("OperationNotPermitted", "Encrypted snapshots cannot be made public.")
    if add_public:
        guardrails.check_snapshot_can_be_public(ctx, snapshot)
    if add_public and productcodes.load(snapshot["product_codes"]):
        raise AwsError("OperationNotPermitted", f"The snapshot {snapshot['snapshot_id']} has AWS Marketplace product "
                                                "codes and can't be made public.")
    default_key = keys.existing_default_ebs_key_arn(ctx, snapshot["owner_id"], snapshot["region"])
    if add and snapshot["encrypted"] and snapshot["kms_key_id"] == default_key:
        raise AwsError("OperationNotPermitted",
                       "Snapshots encrypted with the default AWS managed key (alias/aws/ebs) can't be shared. "
                       "Copy the snapshot with a customer managed key and share the copy.")
    snapshot_store.add_permissions(ctx.conn, snapshot["snapshot_id"], snapshot["region"], add)
    snapshot_store.remove_permissions(ctx.conn, snapshot["snapshot_id"], remove)
    public = (snapshot["is_public"] or add_public) and not remove_public
    if bool(snapshot["is_public"]) != public:
        snapshot_store.update_snapshot(ctx.conn, snapshot["snapshot_id"], is_public=public)
    if remove_public and snapshot["public_blocked"]:
        snapshot_store.update_snapshot(ctx.conn, snapshot["snapshot_id"], public_blocked=None)


def describe_snapshot_attribute(ctx, snapshot_id, attribute) -> dict:
    snapshot = ownership.owned_snapshot(ctx, snapshot_id)
    if attribute == "createVolumePermission":
        # A public snapshot hidden by block-all-sharing still shows its permission, as in AWS.
        entries = [{"Group": "all"}] if snapshot["is_public"] or snapshot["public_blocked"] else []
        entries += [{"UserId": a} for a in snapshot_store.permissions(ctx.conn, snapshot_id)]
        return {"SnapshotId": snapshot_id, "CreateVolumePermissions": entries}
    if attribute == "productCodes":
        return {"SnapshotId": snapshot_id, "ProductCodes": productcodes.load(snapshot["product_codes"])}
    raise AwsError("InvalidParameterValue", f"Value ({attribute}) for parameter attribute is invalid.")


def reset_snapshot_attribute(ctx, snapshot_id, attribute) -> None:
    snapshot = ownership.owned_snapshot(ctx, snapshot_id)
    if attribute != "createVolumePermission":
        raise AwsError("InvalidParameterValue", f"Value ({attribute}) for parameter attribute is invalid.")
    snapshot_store.clear_permissions(ctx.conn, snapshot_id)
    if snapshot["is_public"] or snapshot["public_blocked"]:
        snapshot_store.update_snapshot(ctx.conn, snapshot_id, is_public=False, public_blocked=None)
