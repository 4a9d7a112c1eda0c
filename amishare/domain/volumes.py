"""EBS volumes."""

from amishare.domain import ids, keys, lifecycle, ownership, productcodes, tags
from amishare.domain.listing import Listing, owned
from amishare.domain.regions import check_zone
from amishare.errors import AwsError
from amishare.store import settings as settings_store
from amishare.store import tags as tag_store
from amishare.store import volumes as store

SIZE_LIMITS = {
    "standard": (1, 1024),
    "gp2": (1, 16384),
    "gp3": (1, 16384),
    "io1": (4, 16384),
    "io2": (4, 65536),
    "st1": (125, 16384),
    "sc1": (125, 16384),
}


VOLUME_COUNT = "volumes"
# The most EBS volumes any instance type can have attached (AWS's dedicated EBS volume limit of
# the largest Nitro sizes), so the most block device mappings an image or a launch can carry.
MAX_BLOCK_DEVICE_MAPPINGS = 128


def check_mapping_count(count: int) -> None:
    if count > MAX_BLOCK_DEVICE_MAPPINGS:
        raise AwsError("InvalidBlockDeviceMapping",
                       f"At most {MAX_BLOCK_DEVICE_MAPPINGS} block device mappings are supported; {count} given.")


def check_quota(ctx, wanted: int) -> int:
    """How many volumes the caller may still create in this Region; VolumeLimitExceeded when
    fewer than `wanted`."""
    room = ctx.settings.max_volumes - settings_store.counter(ctx.conn, ctx.account_id, ctx.region, VOLUME_COUNT)
    if room < wanted:
        raise AwsError(
            "VolumeLimitExceeded",
            f"You have reached the quota of {ctx.settings.max_volumes} EBS volumes in {ctx.region}: "
            f"{wanted} more requested, {max(room, 0)} allowed.",
        )
    return room


def check_size(volume_type: str, size: int) -> None:
    low, high = SIZE_LIMITS.get(volume_type, (1, 16384))
    if not low <= size <= high:
        raise AwsError(
            "InvalidParameterValue",
            f"Volume of {size}GiB is not valid for volume type {volume_type}: size must be between {low} and {high} GiB.",
        )


def create_volume(ctx, *, availability_zone, size, snapshot_id, volume_type, iops, throughput, encrypted,
                  kms_key_id, multi_attach, tag_specifications):
    if availability_zone is None:
        raise AwsError("MissingParameter", "The request must contain the parameter AvailabilityZone")
    zone = check_zone(ctx, availability_zone)
    volume_type = volume_type or "gp2"
    if kms_key_id and not encrypted:
        raise AwsError("InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.")
    snapshot = None
    if snapshot_id is not None:
        snapshot = ownership.readable_snapshot(ctx, snapshot_id)
        if lifecycle.settled(snapshot, ctx.now) != "completed":
            raise AwsError("IncorrectState", f"Snapshot '{snapshot_id}' is not in the completed state.")
        if snapshot["encrypted"]:
            keys.check_use(ctx, snapshot["kms_key_id"])
    if size is None:
        if snapshot is None:
            raise AwsError("MissingParameter", "The request must contain the parameter size or snapshotId")
        size = snapshot["volume_size"]
    elif snapshot is not None and size < snapshot["volume_size"]:
        raise AwsError(
            "InvalidParameterValue",
            f"Volume of size {size}GiB is smaller than snapshot '{snapshot_id}', expect size >= {snapshot['volume_size']}GiB",
        )
    check_size(volume_type, size)
    if volume_type in ("io1", "io2") and iops is None:
        raise AwsError("MissingParameter", f"The parameter iops must be specified for {volume_type} volumes.")
    if snapshot is not None and snapshot["encrypted"]:
        encrypted = True
        key = keys.resolve(ctx, True, kms_key_id) if kms_key_id else snapshot["kms_key_id"]
    else:
        key = keys.resolve(ctx, bool(encrypted), kms_key_id)
    requested = tags.from_specifications(tag_specifications, {"volume"})
    check_quota(ctx, 1)
    volume_id = insert_volume(
        ctx, zone=zone, size=size, volume_type=volume_type, iops=iops, throughput=throughput,
        encrypted=bool(encrypted), kms_key_id=key, snapshot_id=snapshot_id, multi_attach=bool(multi_attach),
        product_codes=productcodes.load(snapshot["product_codes"]) if snapshot is not None else None,
    )
    if requested.get("volume"):
        tags.apply(ctx, volume_id, "volume", ctx.account_id, requested["volume"])
    return store.get(ctx.conn, volume_id)


def insert_volume(ctx, *, zone, size, volume_type, iops=None, throughput=None, encrypted=False, kms_key_id=None,
                  snapshot_id=None, multi_attach=False, instance_id=None, device=None, delete_on_termination=None,
                  state="available", product_codes=None) -> str:
    volume_id = ids.new_id("vol")
    if instance_id is None:
        timing = lifecycle.transition("creating", state, ctx.now, ctx.settings.state_delay)
    else:
        timing = lifecycle.fixed("in-use")
    if volume_type == "gp3":
        iops = iops or 3000
        throughput = throughput or 125
    elif volume_type == "gp2":
        iops = max(100, min(16000, size * 3))
    store.insert_volume(
        ctx.conn, volume_id=volume_id, region=ctx.region, owner_id=ctx.account_id, availability_zone=zone,
        size=size, volume_type=volume_type, iops=iops, throughput=throughput, encrypted=encrypted,
        kms_key_id=kms_key_id, snapshot_id=snapshot_id, created_at=ctx.now, multi_attach=multi_attach,
        instance_id=instance_id, device=device, attach_time=ctx.now if instance_id else None,
        delete_on_termination=delete_on_termination, product_codes=productcodes.dump(product_codes), **timing,
    )
    settings_store.add_to_counter(ctx.conn, ctx.account_id, ctx.region, VOLUME_COUNT, 1)
    return volume_id


def remove_volume(ctx, row) -> None:
    store.delete_volume(ctx.conn, row["volume_id"])
    tag_store.remove_all(ctx.conn, row["volume_id"])
    settings_store.add_to_counter(ctx.conn, row["owner_id"], row["region"], VOLUME_COUNT, -1)


def delete_volume(ctx, volume_id):
    row = ownership.owned_volume(ctx, volume_id)
    if row["instance_id"] is not None:
        raise AwsError("VolumeInUse", f"Volume {volume_id} is currently attached to {row['instance_id']}")
    remove_volume(ctx, row)


VOLUMES = Listing("volumes", key="volume_id", max_results=(5, 500), branch=store.branch, filters=store.FILTERS,
                  tag_column=store.c.volume_id, id_prefix="vol", ids_param="volumeId")


def describe_volumes(ctx, volume_ids, filters, max_results, next_token):
    """The caller's own volumes (volumes are never shared)."""
    query = VOLUMES.request(ctx, ids=volume_ids, filters=filters, max_results=max_results, next_token=next_token,
                            criteria=(ctx.account_id, filters))
    rows, token = query.run(owned(ctx, query.ids))
    own_tags = tag_store.for_resources(ctx.conn, ctx.account_id, [r["volume_id"] for r in rows])
    return rows, own_tags, token
