"""Instances launched from images. The launching account owns them, whoever owns the image."""

import json
import secrets

from amishare.domain import access, allowed_images, ids, keys, lifecycle, ownership, productcodes, tags, trace
from amishare.domain import volumes as volume_domain
from amishare.domain.listing import Listing, owned
from amishare.domain.regions import check_zone
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import instances as store
from amishare.store import settings as settings_store
from amishare.store import tags as tag_store
from amishare.store import volumes as volume_store

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
MAX_PER_CALL = 100
# Instances counted against the running-instances quota (usage counter, kept on each change).
INSTANCE_COUNT = "instances"
_COUNTED = frozenset({"pending", "running"})


def state_of(row, now):
    name = lifecycle.settled(row, now)
    return {"Code": STATE_CODES[name], "Name": name}


def run_instances(ctx, params):
    image_id = params.get("ImageId")
    if not image_id:
        raise AwsError("MissingParameter", "The request must contain the parameter ImageId")
    low, high = params["MinCount"], params["MaxCount"]
    if low < 1 or high < 1:
        raise AwsError("InvalidParameterValue", "MinCount and MaxCount must be greater than zero.")
    if low > high:
        raise AwsError("InvalidParameterValue", "MinCount must be less than or equal to MaxCount.")
    if low > MAX_PER_CALL:
        raise AwsError("InstanceLimitExceeded",
                       f"You have requested more instances ({low}) than your current instance limit of {MAX_PER_CALL} allows.")
    count = min(high, MAX_PER_CALL)
    token = params.get("ClientToken")
    if token:
        existing = store.by_client_token(ctx.conn, ctx.account_id, ctx.region, token)
        if existing:
            return existing
    image = access.find_visible(ctx, image_id)
    checks, devices = launch_checks(ctx, image)
    storage = trace.enforce(checks)["snapshots"]
    zone = check_zone(ctx, (params.get("Placement") or {}).get("AvailabilityZone"))
    requested = tags.from_specifications(params.get("TagSpecifications"), {"instance", "volume"})
    volume_domain.check_mapping_count(len(params.get("BlockDeviceMappings") or ()))
    overrides = {m.get("DeviceName"): m for m in params.get("BlockDeviceMappings") or ()}
    volumes_each = len(_volume_devices(devices, overrides))
    volume_domain.check_mapping_count(volumes_each)
    count = _launchable(ctx, low, count, volumes_each)
    codes = productcodes.of_image(image_store.product_codes(ctx.conn, [image_id])[image_id])
    reservation_id = ids.new_id("r")
    timing = lifecycle.transition("pending", "running", ctx.now, ctx.settings.state_delay)
    rows = []
    for index in range(count):
        instance_id = ids.new_id("i")
        rows.append(dict(
            instance_id=instance_id, region=ctx.region, owner_id=ctx.account_id, reservation_id=reservation_id,
            image_id=image_id, instance_type=params.get("InstanceType") or "m1.small", state_reason=None,
            launch_time=ctx.now, availability_zone=zone,
            private_ip=f"172.31.{secrets.randbelow(255)}.{1 + secrets.randbelow(253)}",
            key_name=params.get("KeyName"), architecture=image["architecture"],
            virtualization_type=image["virtualization_type"], root_device_name=image["root_device_name"],
            root_device_type=image["root_device_type"], platform=image["platform"],
            platform_details=image["platform_details"], usage_operation=image["usage_operation"],
            boot_mode=image["boot_mode"], product_codes=json.dumps(codes), ami_launch_index=index,
            client_token=token, ebs_optimized=bool(params.get("EbsOptimized")), **timing,
        ))
    store.insert_instances(ctx.conn, rows)
    settings_store.add_to_counter(ctx.conn, ctx.account_id, ctx.region, INSTANCE_COUNT, len(rows))
    for row in rows:
        _attach_image_volumes(ctx, row["instance_id"], zone, devices, overrides, requested.get("volume"), codes, storage)
        if requested.get("instance"):
            tags.apply(ctx, row["instance_id"], "instance", ctx.account_id, requested["instance"])
    image_store.update_image(ctx.conn, image_id, last_launched_at=ctx.now)
    return store.by_reservation(ctx.conn, reservation_id)


def launch_checks(ctx, image) -> tuple[list, list]:
    """What RunInstances requires of an image the caller can see, beyond the launch permission
    and IAM (`trace` checks), with the image's block devices: the Allowed AMIs settings, an
    available image (a disabled one is not), snapshots its owner can still read, and, for each
    encrypted volume, a KMS key EBS may use for the caller. Access analysis runs the same list."""
    image_id = image["image_id"]
    devices = image_store.block_devices(ctx.conn, [image_id])[image_id]
    checks = [
        ("allowed-images", "the Allowed AMIs settings of the launching account allow the image",
         lambda: allowed_images.check_launch(ctx, image)),
        ("image-state", "the image is available (not disabled, pending or failed)", lambda: check_available(ctx, image)),
        ("snapshots", "the image's owner can read every snapshot behind it",
         lambda: ownership.image_storage(ctx, image, devices)),
    ]
    for device in devices:
        if device["encrypted"] and not device["no_device"]:
            checks.append(("kms-key", f"EBS may use the KMS key {device['kms_key_id']} for the launching account",
                           lambda key=device["kms_key_id"]: keys.check_use(ctx, key, image_id)))
    return checks, devices


def check_available(ctx, image) -> None:
    state = lifecycle.settled(image, ctx.now)
    if state != "available":
        raise AwsError("InvalidAMIID.Unavailable", f"The image id '[{image['image_id']}]' is not available (state: "
                                                   f"{state}).")


def _volume_devices(devices, overrides) -> list[tuple[dict, dict]]:
    """(image device, its override) for each EBS volume an instance launched from the image gets."""
    out = []
    for device in devices:
        override = overrides.get(device["device_name"], {})
        if device["no_device"] or "NoDevice" in override or device["snapshot_id"] is None and device["volume_size"] is None:
            continue
        out.append((device, override))
    return out


def _launchable(ctx, low: int, high: int, volumes_each: int) -> int:
    """How many instances (at least `low`, at most `high`) the running-instance and volume quotas
    let this launch create, as EC2 launches as many as it can above MinCount."""
    room = ctx.settings.max_instances - settings_store.counter(ctx.conn, ctx.account_id, ctx.region, INSTANCE_COUNT)
    if room < low:
        raise AwsError("InstanceLimitExceeded",
                       f"Your quota allows for {max(room, 0)} more running instance(s). You requested at least {low}.")
    count = min(high, room)
    if volumes_each:
        room = volume_domain.check_quota(ctx, low * volumes_each)
        count = min(count, room // volumes_each)
    return count


def _attach_image_volumes(ctx, instance_id, zone, devices, overrides, volume_tags, codes, storage):
    """The instance's volumes, carrying the image's product codes and their snapshot's."""
    for device, override in _volume_devices(devices, overrides):
        snapshot = storage.get(device["snapshot_id"])
        ebs = override.get("Ebs") or {}
        size = ebs.get("VolumeSize") or device["volume_size"]
        if device["volume_size"] and size < device["volume_size"]:
            raise AwsError("InvalidBlockDeviceMapping",
                           f"Volume of size {size}GiB is smaller than snapshot '{device['snapshot_id']}', "
                           f"expect size >= {device['volume_size']}GiB")
        volume_type = ebs.get("VolumeType") or device["volume_type"] or "gp2"
        volume_domain.check_size(volume_type, size)
        delete_on_termination = ebs.get("DeleteOnTermination", device["delete_on_termination"])
        volume_id = volume_domain.insert_volume(
            ctx, zone=zone, size=size, volume_type=volume_type, iops=ebs.get("Iops") or device["iops"],
            throughput=ebs.get("Throughput") or device["throughput"], encrypted=bool(device["encrypted"]),
            kms_key_id=device["kms_key_id"], snapshot_id=device["snapshot_id"], instance_id=instance_id,
            device=device["device_name"],
            delete_on_termination=True if delete_on_termination is None else bool(delete_on_termination),
            product_codes=productcodes.merge(codes, productcodes.load(snapshot["product_codes"]) if snapshot else []),
        )
        if volume_tags:
            tags.apply(ctx, volume_id, "volume", ctx.account_id, volume_tags)


INSTANCES = Listing("instances", key="instance_id", max_results=(5, 1000), branch=store.branch,
                    filters=store.FILTERS, tag_column=store.c.instance_id, id_prefix="i", ids_param="instanceId")


def describe_instances(ctx, instance_ids, filters, max_results, next_token):
    """The caller's own instances, whoever owns the images they were launched from."""
    query = INSTANCES.request(ctx, ids=instance_ids, filters=filters, max_results=max_results,
                              next_token=next_token, criteria=(ctx.account_id, filters))
    return query.run(owned(ctx, query.ids))


def instance_details(ctx, rows):
    instance_ids = [r["instance_id"] for r in rows]
    return (
        volume_store.attached_to(ctx.conn, instance_ids),
        tag_store.for_resources(ctx.conn, ctx.account_id, instance_ids),
    )


_TRANSITIONS = {
    # operation: (allowed current states, transitional state, final state)
    "stop": ({"pending", "running", "stopping", "stopped"}, "stopping", "stopped"),
    "start": ({"pending", "running", "stopped"}, "pending", "running"),
    "terminate": ({"pending", "running", "stopping", "stopped", "shutting-down", "terminated"}, "shutting-down", "terminated"),
}


def change_state(ctx, instance_ids, operation):
    allowed, transitional, final = _TRANSITIONS[operation]
    rows = []
    for instance_id in instance_ids:
        rows.append(ownership.owned_instance(ctx, instance_id))
    changes, counted = [], 0
    for row in rows:
        previous = lifecycle.settled(row, ctx.now)
        if previous not in allowed:
            raise AwsError("IncorrectInstanceState",
                           f"The instance '{row['instance_id']}' is not in a state from which it can be {operation}ed.")
        if previous in (transitional, final):
            current = previous
        else:
            timing = lifecycle.transition(transitional, final, ctx.now, ctx.settings.state_delay)
            store.update_instance(ctx.conn, row["instance_id"], **timing)
            current = timing["state"]
            if operation == "terminate":
                _release_volumes(ctx, row["instance_id"])
        counted += (current in _COUNTED) - (previous in _COUNTED)
        changes.append({
            "InstanceId": row["instance_id"],
            "CurrentState": {"Code": STATE_CODES[current], "Name": current},
            "PreviousState": {"Code": STATE_CODES[previous], "Name": previous},
        })
    if counted > 0:
        _launchable(ctx, counted, counted, 0)
    if counted:
        settings_store.add_to_counter(ctx.conn, ctx.account_id, ctx.region, INSTANCE_COUNT, counted)
    return changes


def _release_volumes(ctx, instance_id):
    for volume in volume_store.attached_to(ctx.conn, [instance_id])[instance_id]:
        if volume["delete_on_termination"]:
            volume_domain.remove_volume(ctx, volume)
        else:
            volume_store.update_volume(ctx.conn, volume["volume_id"], instance_id=None, device=None, attach_time=None,
                                       delete_on_termination=None, **lifecycle.fixed("available"))
