"""AMIs: registration, creation from instances, copies, description, deregistration."""

import dataclasses
import re

from amishare.domain import access, authz, catalog, ids, keys, lifecycle, ownership, pagination, productcodes, tags
from amishare.domain import resources, trace
from amishare.domain import allowed_images, events, guardrails, recycle_bin, sharing
from amishare.domain import snapshots as snapshot_domain
from amishare.domain import volumes as volume_domain
from amishare.domain.listing import Listing
from amishare.domain.regions import check_region
from amishare.errors import AwsError
from amishare.store import filters as filter_sql
from amishare.store import images as store
from amishare.store import settings as settings_store
from amishare.store import snapshots as snapshot_store
from amishare.store import tags as tag_store
from amishare.store import volumes as volume_store

# DescribeImages filters: the image's own columns (store), and facts of the built-in catalog.
FILTERS = {
    **store.FILTERS,
    "free-tier-eligible": lambda v, now: filter_sql.match_condition(store.owned_by(catalog.FREE_TIER_OWNERS), v),
    "public-ssm-parameter-name": lambda v, now: store.named(catalog.AMAZON, catalog.images_named_by_parameters(v)),
}

NAME_RE = re.compile(r"[A-Za-z0-9()\[\] ./\-'@_]{3,128}")
IMAGE_COUNT = "images"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise AwsError(
            "InvalidAMIName.Malformed",
            "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, "
            "'(', ')', '.', '-', '/' and '_'",
        )
    return name


def _check_name_free(ctx, name):
    existing = store.image_named(ctx.conn, ctx.region, ctx.account_id, name)
    if existing is not None:
        raise AwsError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {existing}")


def _check_quota(ctx):
    count = settings_store.counter(ctx.conn, ctx.account_id, ctx.region, IMAGE_COUNT)
    if count >= ctx.settings.max_images:
        raise AwsError(
            "ResourceLimitExceeded",
            f"You have reached the quota of {ctx.settings.max_images} AMIs per Region (AMIs per Region).",
        )


def _insert(ctx, row: dict, block_devices: list[dict], product_codes: list[dict], ready_after: float | None) -> str:
    image_id = ids.new_id("ami")
    timing = lifecycle.transition("pending", "available", ctx.now, ctx.settings.state_delay)
    if ready_after is not None and ready_after > ctx.now:
        timing = {"state": "pending", "next_state": "available",
                  "next_state_at": max(ready_after, timing["next_state_at"] or 0)}
    defaults = dict(
        description=None, root_device_type="ebs", image_type="machine", platform=None,
        platform_details="Linux/UNIX", usage_operation="RunInstances", kernel_id=None, ramdisk_id=None,
        ena_support=True, sriov_net_support="simple", imds_support=None, tpm_support=None, boot_mode=None,
        image_location=None, deprecation_time=None, is_public=False, disabled=False,
        deregistration_protection=None, last_launched_at=None, source_image_id=None,
        source_image_region=None, source_instance_id=None,
    )
    full = {**defaults, **row, "image_id": image_id, "region": ctx.region, "owner_id": row.get("owner_id", ctx.account_id),
            "created_at": ctx.now, **timing}
    store.insert_image(ctx.conn, full, block_devices, product_codes)
    settings_store.add_to_counter(ctx.conn, full["owner_id"], ctx.region, IMAGE_COUNT, 1)
    if full["state"] == "available":  # ready at once; a pending image's event comes when it settles
        events.image_state_changed(ctx.conn, image_id, ctx.region, full["owner_id"], "available", ctx.request_id,
                                   ctx.now)
    return image_id


def _device_mappings(ctx, mappings, root_device_name):
    """Validate RegisterImage block device mappings; return rows, when their snapshots complete
    and the product codes the snapshots carry (which the image takes on)."""
    volume_domain.check_mapping_count(len(mappings or ()))
    rows, seen, ready_after, codes = [], set(), None, []
    for mapping in mappings or ():
        device = mapping.get("DeviceName")
        if not device:
            raise AwsError("InvalidBlockDeviceMapping", "The device name must be specified for each block device mapping.")
        if device in seen:
            raise AwsError("InvalidBlockDeviceMapping", f"The device '{device}' is used in more than one block-device mapping")
        seen.add(device)
        ebs = mapping.get("Ebs")
        row = dict(device_name=device, virtual_name=mapping.get("VirtualName"), no_device="NoDevice" in mapping,
                   snapshot_id=None, volume_size=None, volume_type=None, iops=None, throughput=None,
                   encrypted=None, kms_key_id=None, delete_on_termination=None)
        if ebs is not None:
            volume_type = ebs.get("VolumeType") or "gp2"
            row.update(volume_type=volume_type, iops=ebs.get("Iops"), throughput=ebs.get("Throughput"),
                       delete_on_termination=ebs.get("DeleteOnTermination", True))
            if ebs.get("SnapshotId"):
                snapshot = ownership.own_snapshot_for_image(ctx, ebs["SnapshotId"])
                size = ebs.get("VolumeSize") or snapshot["volume_size"]
                if size < snapshot["volume_size"]:
                    raise AwsError(
                        "InvalidBlockDeviceMapping",
                        f"Volume of size {size}GiB is smaller than snapshot '{snapshot['snapshot_id']}', "
                        f"expect size >= {snapshot['volume_size']}GiB",
                    )
                row.update(snapshot_id=snapshot["snapshot_id"], volume_size=size, encrypted=snapshot["encrypted"],
                           kms_key_id=snapshot["kms_key_id"])
                codes = productcodes.merge(codes, productcodes.load(snapshot["product_codes"]))
                if snapshot["next_state"] is not None and snapshot["next_state_at"] is not None:
                    ready_after = max(ready_after or 0, snapshot["next_state_at"])
            else:
                if not ebs.get("VolumeSize"):
                    raise AwsError("InvalidBlockDeviceMapping", f"The device '{device}' needs a snapshot id or a volume size.")
                encrypted = bool(ebs.get("Encrypted"))
                row.update(volume_size=ebs["VolumeSize"], encrypted=encrypted,
                           kms_key_id=keys.resolve(ctx, encrypted, ebs.get("KmsKeyId")))
        rows.append(row)
    return rows, ready_after, codes


def register_image(ctx, params) -> str:
    name = check_name(params["Name"])
    description = params.get("Description")
    root = params.get("RootDeviceName")
    mappings, ready_after, codes = _device_mappings(ctx, params.get("BlockDeviceMappings"), root)
    location = params.get("ImageLocation")
    if location is None:
        if root is None:
            raise AwsError("InvalidParameterValue", "The request must specify a root device name (RootDeviceName) for an EBS-backed AMI.")
        root_row = next((m for m in mappings if m["device_name"] == root), None)
        if root_row is None or root_row["snapshot_id"] is None:
            raise AwsError(
                "InvalidBlockDeviceMapping",
                f"The root device name {root} must be mapped to an EBS snapshot in the block device mapping.",
            )
    requested = tags.from_specifications(params.get("TagSpecifications"), {"image"})
    _check_quota(ctx)
    _check_name_free(ctx, name)
    image_id = _insert(ctx, dict(
        name=name, description=description, architecture=params.get("Architecture") or "x86_64",
        virtualization_type=params.get("VirtualizationType") or "hvm", root_device_name=root,
        root_device_type="instance-store" if location and not mappings else "ebs",
        boot_mode=params.get("BootMode"), kernel_id=params.get("KernelId"), ramdisk_id=params.get("RamdiskId"),
        ena_support=params.get("EnaSupport"), sriov_net_support=params.get("SriovNetSupport"),
        imds_support=params.get("ImdsSupport"), tpm_support=params.get("TpmSupport"),
        image_location=location,
    ), mappings, productcodes.as_image_rows(codes), ready_after)
    if requested.get("image"):
        tags.apply(ctx, image_id, "image", ctx.account_id, requested["image"])
    return image_id


def create_image(ctx, instance_id, name, description, no_reboot, mappings_override, tag_specifications) -> str:
    instance = ownership.owned_instance(ctx, instance_id)
    state = lifecycle.settled(instance, ctx.now)
    if state not in ("running", "stopped"):
        raise AwsError("IncorrectInstanceState", f"The instance '{instance_id}' is not in a state from which it can be imaged.")
    check_name(name)
    requested = tags.from_specifications(tag_specifications, {"image", "snapshot"})
    _check_quota(ctx)
    _check_name_free(ctx, name)
    excluded = {m["DeviceName"] for m in mappings_override or () if "NoDevice" in m and m.get("DeviceName")}
    volumes = volume_store.attached_to(ctx.conn, [instance_id])[instance_id]
    block_devices, snapshot_ids = [], []
    codes = productcodes.load(instance["product_codes"])
    placeholder = "ami-pending"
    for volume in volumes:
        if volume["device"] in excluded:
            continue
        snapshot_id = snapshot_domain.new_snapshot(
            ctx, volume_id=volume["volume_id"], volume_size=volume["size"],
            description=f"Created by CreateImage({instance_id}) for {placeholder}",
            encrypted=volume["encrypted"], kms_key_id=volume["kms_key_id"],
            product_codes=productcodes.load(volume["product_codes"]),
        )
        codes = productcodes.merge(codes, productcodes.load(volume["product_codes"]))
        snapshot_ids.append(snapshot_id)
        block_devices.append(dict(
            device_name=volume["device"], virtual_name=None, no_device=False, snapshot_id=snapshot_id,
            volume_size=volume["size"], volume_type=volume["volume_type"], iops=volume["iops"],
            throughput=volume["throughput"], encrypted=volume["encrypted"], kms_key_id=volume["kms_key_id"],
            delete_on_termination=bool(volume["delete_on_termination"]),
        ))
    image_id = _insert(ctx, dict(
        name=name, description=description, architecture=instance["architecture"],
        virtualization_type=instance["virtualization_type"], root_device_name=instance["root_device_name"],
        boot_mode=instance["boot_mode"], platform=instance["platform"],
        platform_details=instance["platform_details"] or "Linux/UNIX",
        usage_operation=instance["usage_operation"] or "RunInstances", source_instance_id=instance_id,
    ), block_devices, productcodes.as_image_rows(codes), None)
    for snapshot_id in snapshot_ids:
        snapshot_store.update_snapshot(ctx.conn, snapshot_id,
                                       description=f"Created by CreateImage({instance_id}) for {image_id}")
        if requested.get("snapshot"):
            tags.apply(ctx, snapshot_id, "snapshot", ctx.account_id, requested["snapshot"])
    if requested.get("image"):
        tags.apply(ctx, image_id, "image", ctx.account_id, requested["image"])
    return image_id


def copy_checks(ctx, source, devices) -> list:
    """What CopyImage requires of a source image the caller can see, beyond the launch permission
    and IAM (`trace` checks): an available image, snapshots its owner can still read, each
    encryption key usable by EBS for the caller, no product code on another account's image, and
    every snapshot readable by the caller (shared with it). Access analysis runs the same list."""
    source_id = source["image_id"]
    found: dict = {}

    def available():
        if lifecycle.settled(source, ctx.now) != "available":
            raise AwsError("InvalidAMIID.Unavailable", f"The image id '[{source_id}]' is not available for copying.")

    def storage():
        found.update(ownership.image_storage(ctx, source, devices))
        return found

    def encryption_keys():
        for snapshot in found.values():
            if snapshot["encrypted"]:
                keys.check_use(ctx, snapshot["kms_key_id"], source_id)

    def product_codes():
        if store.product_codes(ctx.conn, [source_id])[source_id] and source["owner_id"] != ctx.account_id:
            raise AwsError("InvalidRequest",
                           f"You can't copy {source_id}: it has a product code and belongs to another account. "
                           "Launch an instance from it and create an AMI from the instance instead.")

    def snapshot_permissions():
        unreadable = [s["snapshot_id"] for s in found.values() if not ownership.snapshot_readable(ctx, s)]
        if unreadable:
            trace.note(ctx, "snapshot-permission", trace.DENIED,
                       f"no createVolumePermission of {', '.join(sorted(unreadable))} reaches account {ctx.account_id}")
            raise AwsError("InvalidRequest", "You do not have permission to access the storage of this ami")

    return [
        ("image-state", "the image is available (not disabled, pending or failed)", available),
        ("snapshots", "the image's owner can read every snapshot behind it", storage),
        ("kms-key", "EBS may use every key of the image's encrypted snapshots for the copying account", encryption_keys),
        ("product-codes", "the image has no product code, or belongs to the copying account", product_codes),
        ("snapshot-permission", "the copying account may read every snapshot (owner, public or createVolumePermission)",
         snapshot_permissions),
    ]


def copy_image(ctx, params) -> str:
    source_region = check_region(params["SourceRegion"])
    source_id = params["SourceImageId"]
    name = check_name(params["Name"])
    token = params.get("ClientToken")
    fingerprint = pagination.fingerprint("CopyImage", params)
    if token:
        previous = settings_store.get_idempotent(ctx.conn, ctx.account_id, ctx.region, "CopyImage", token)
        if previous is not None:
            if previous["request_hash"] != fingerprint:
                raise AwsError("IdempotentParameterMismatch",
                               "The client token you have provided is associated with a request with different parameters.")
            return previous["result"]
    source = access.find_visible(ctx, source_id, region=source_region)
    devices = store.block_devices(ctx.conn, [source_id])[source_id]
    volume_domain.check_mapping_count(len(devices))
    snapshot_rows = trace.enforce(copy_checks(ctx, source, devices))["snapshots"]
    codes = store.product_codes(ctx.conn, [source_id])[source_id]
    requested = tags.from_specifications(params.get("TagSpecifications"), {"image", "snapshot"})
    encrypt = bool(params.get("Encrypted"))
    if params.get("KmsKeyId") and not encrypt:
        raise AwsError("InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.")
    _check_quota(ctx)
    _check_name_free(ctx, name)
    new_devices, new_snapshots = [], []
    for device in devices:
        row = {k: v for k, v in device.items() if k not in ("image_id", "position")}
        snapshot = snapshot_rows.get(device["snapshot_id"])
        if snapshot is not None:
            key, encrypted = _copy_key(ctx, snapshot, source_region, encrypt, params.get("KmsKeyId"))
            new_id = snapshot_domain.new_snapshot(
                ctx, volume_id="vol-ffffffff", volume_size=snapshot["volume_size"],
                description=f"Copied for DestinationAmi from SourceAmi {source_id} "
                            f"for SourceSnapshot {snapshot['snapshot_id']}.",
                encrypted=encrypted, kms_key_id=key,
                source_snapshot_id=snapshot["snapshot_id"], source_region=source_region,
                product_codes=productcodes.load(snapshot["product_codes"]),
            )
            row.update(snapshot_id=new_id, encrypted=encrypted, kms_key_id=key)
            new_snapshots.append(new_id)
        new_devices.append(row)
    copied = {k: source[k] for k in (
        "architecture", "virtualization_type", "root_device_name", "root_device_type", "boot_mode", "image_type",
        "platform", "platform_details", "usage_operation", "kernel_id", "ramdisk_id", "ena_support",
        "sriov_net_support", "imds_support", "tpm_support")}
    image_id = _insert(ctx, dict(
        copied, name=name, description=params.get("Description", source["description"]),
        source_image_id=source_id, source_image_region=source_region,
    ), new_devices, [{"product_code": c["product_code"], "product_code_type": c["product_code_type"]} for c in codes],
        None)
    if params.get("CopyImageTags") and source["owner_id"] == ctx.account_id:
        source_tags = tag_store.for_resources(ctx.conn, ctx.account_id, [source_id])[source_id]
        if source_tags:
            tags.apply(ctx, image_id, "image", ctx.account_id, source_tags)
    if requested.get("image"):
        tags.apply(ctx, image_id, "image", ctx.account_id, requested["image"])
    for snapshot_id in new_snapshots:
        if requested.get("snapshot"):
            tags.apply(ctx, snapshot_id, "snapshot", ctx.account_id, requested["snapshot"])
    if token:
        settings_store.put_idempotent(ctx.conn, account_id=ctx.account_id, region=ctx.region, operation="CopyImage",
                                      client_token=token, request_hash=fingerprint, result=image_id, created_at=ctx.now)
    return image_id


def _copy_key(ctx, snapshot, source_region, encrypt, kms_key_id):
    """The key a copied snapshot is encrypted with: the requested one, else the source's when it stays
    in the same account and Region, else the caller's default EBS key."""
    encrypted = bool(snapshot["encrypted"] or encrypt)
    if not encrypted:
        return None, False
    if kms_key_id:
        return keys.resolve(ctx, True, kms_key_id), True
    if snapshot["owner_id"] == ctx.account_id and source_region == ctx.region and snapshot["encrypted"]:
        return snapshot["kms_key_id"], True
    return keys.default_ebs_key_arn(ctx), True


IMAGES = Listing("images", key="image_id", max_results=(5, 1000), branch=store.branch, filters=FILTERS,
                 tag_column=store.c.image_id, id_prefix="ami", ids_param="ImageId")


def describe_images(ctx, params):
    image_ids = ids.check_all("ami", params.get("ImageIds") or [])  # before the owners, as EC2 checks them
    owners = access.resolve_owners(ctx, params.get("Owners") or [])
    executable = access.check_executable_users(ctx, params.get("ExecutableUsers") or [])
    filters = params.get("Filters") or []
    listing = IMAGES
    allowed_filter = allowed_images.image_filter(ctx)
    if allowed_filter is not None:
        listing = dataclasses.replace(IMAGES, filters={**FILTERS, "image-allowed": allowed_filter})
    query = listing.request(ctx, ids=image_ids, filters=filters, max_results=params.get("MaxResults"),
                           next_token=params.get("NextToken"),
                           criteria=(ctx.account_id, owners, executable, filters, image_ids))
    if image_ids:
        # Unknown or invisible ids are an error; the other criteria then narrow the set quietly.
        rows = access.visible_by_ids(ctx, list(dict.fromkeys(image_ids)))
        check_discoverable(ctx, rows)
        narrowing = access.narrowing_conditions(ctx, owners, executable)
        if narrowing or query.conditions:
            rows = query.select([(("ids", image_ids), [access.visible_condition(ctx)] + narrowing)])
        return rows, None
    hidden = []
    if not params.get("IncludeDisabled"):
        hidden.append(store.not_disabled())
    if not params.get("IncludeDeprecated"):
        hidden.append(store.not_deprecated(ctx.account_id, ctx.now))
    if allowed_images.enforced(ctx):
        hidden.append(allowed_images.condition(ctx))
    return query.run(access.describe_branches(ctx, owners, executable), hidden)


def check_discoverable(ctx, rows) -> None:
    """Images outside the caller's Allowed AMIs criteria are not discoverable: NotFound."""
    if allowed_images.enforced(ctx):
        codes = store.product_codes(ctx.conn, [r["image_id"] for r in rows])
        hidden = [r["image_id"] for r in rows
                  if not allowed_images.is_allowed(ctx, r, [c["product_code"] for c in codes[r["image_id"]]])]
        if hidden:
            raise ids.not_found("ami", hidden)


def details(ctx, rows):
    """Block devices, product codes, owner aliases and (for the caller's own images) tags of `rows`."""
    image_ids = [r["image_id"] for r in rows]
    return (
        store.block_devices(ctx.conn, image_ids),
        store.product_codes(ctx.conn, image_ids),
        tag_store.for_resources(ctx.conn, ctx.account_id, [r["image_id"] for r in rows if r["owner_id"] == ctx.account_id]),
    )


def deregister_image(ctx, image_id, delete_snapshots: bool):
    image = access.find_owned(ctx, image_id)
    if guardrails.is_protected(image, ctx.now):
        raise AwsError("OperationNotPermitted",
                       f"Deregistration protection is enabled for image {image_id}. Disable it before deregistering.")
    devices = store.block_devices(ctx.conn, [image_id])[image_id]
    kept_for = recycle_bin.retention_days(ctx, image)
    if kept_for is not None:  # a retention rule matches: to the Recycle Bin, whole
        recycle_bin.keep(ctx, image, devices, kept_for)
    events.settle_before_change(ctx, image)
    sharing.set_public(ctx, image, False)
    store.delete_image(ctx.conn, image_id)
    tag_store.remove_all(ctx.conn, image_id)
    settings_store.add_to_counter(ctx.conn, image["owner_id"], image["region"], IMAGE_COUNT, -1)
    events.image_state_changed(ctx.conn, image_id, image["region"], image["owner_id"], "deregistered",
                               ctx.request_id, ctx.now)
    if not delete_snapshots:
        return []
    return [{"SnapshotId": device["snapshot_id"], "ReturnCode": _delete_associated(ctx, device["snapshot_id"])}
            for device in devices if device["snapshot_id"] is not None]


def _delete_associated(ctx, snapshot_id) -> str:
    """Delete one snapshot of a deregistered image, as EC2 reports it: a caller that may not
    ec2:DeleteSnapshot it keeps it (missing-permissions), one another image uses is skipped."""
    if not authz.allows(ctx, "ec2:DeleteSnapshot", resources.snapshot(ctx, snapshot_id, ctx.region)):
        return "missing-permissions"
    try:
        snapshot_domain.delete_snapshot(ctx, snapshot_id)
    except AwsError as exc:
        return "skipped" if exc.code == "InvalidSnapshot.InUse" else "client-error"
    return "success"

# Why a failed image failed, as DescribeImages shows it (the store filters on the same words).
FAILED_STATE_REASON = store.FAILED_STATE_REASON
