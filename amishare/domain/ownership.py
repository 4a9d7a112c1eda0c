"""Resolving a resource id to something the caller owns, with AWS's errors."""

from amishare.domain import access, ids
from amishare.errors import AwsError
from amishare.store import instances as instance_store
from amishare.store import snapshots as snapshot_store
from amishare.store import volumes as volume_store


def owned_snapshot(ctx, snapshot_id):
    ids.check("snap", snapshot_id)
    row = snapshot_store.get(ctx.conn, snapshot_id)
    if row is None or row["region"] != ctx.region:
        raise ids.not_found("snap", [snapshot_id])
    if row["owner_id"] != ctx.account_id:
        if snapshot_readable(ctx, row):
            raise AwsError("UnauthorizedOperation", f"You are not authorized to perform this operation on snapshot {snapshot_id}.", 403)
        raise ids.not_found("snap", [snapshot_id])
    return row


def snapshot_readable(ctx, row, account_id: str | None = None) -> bool:
    """The account (the caller unless named) may read (copy, restore) a snapshot, now: it owns
    it, or it is public or shared with it."""
    account_id = account_id or ctx.account_id
    if row["owner_id"] == account_id:
        return True
    return bool(row["is_public"]) or snapshot_store.is_granted(ctx.conn, row["snapshot_id"], account_id)


def own_snapshot_for_image(ctx, snapshot_id):
    """A snapshot the caller registers an image on: it must own it. An image on another
    account's snapshot would outlive that account's permission and block its deletion, so a
    shared or public snapshot is copied first (CopySnapshot) and the copy registered."""
    row = readable_snapshot(ctx, snapshot_id)
    if row["owner_id"] != ctx.account_id:
        raise AwsError(
            "OperationNotPermitted",
            f"You can't register an image on snapshot {snapshot_id}: it is owned by another account. "
            "Copy it with CopySnapshot and register the copy.",
        )
    return row


def image_storage(ctx, image, devices) -> dict:
    """The snapshots behind an image's block devices, by id. Each must still be readable by the
    image's owner: when its owner withdraws that permission (or deletes it), the image is
    unavailable to everyone, however the image itself is shared."""
    wanted = [d["snapshot_id"] for d in devices if d["snapshot_id"] and not d["no_device"]]
    rows = snapshot_store.get_many(ctx.conn, wanted)
    for snapshot_id in wanted:
        row = rows.get(snapshot_id)
        if row is None or row["region"] != image["region"] or not snapshot_readable(ctx, row, image["owner_id"]):
            raise AwsError(
                "InvalidAMIID.Unavailable",
                f"The image id '[{image['image_id']}]' is not available: the owner of the image can no longer "
                f"read its snapshot {snapshot_id}.",
            )
    return rows


def readable_snapshot(ctx, snapshot_id, region=None):
    ids.check("snap", snapshot_id)
    row = snapshot_store.get(ctx.conn, snapshot_id)
    if row is None or row["region"] != (region or ctx.region):
        raise ids.not_found("snap", [snapshot_id])
    if not snapshot_readable(ctx, row):
        raise ids.not_found("snap", [snapshot_id])
    return row


def owned_volume(ctx, volume_id):
    ids.check("vol", volume_id)
    row = volume_store.get(ctx.conn, volume_id)
    if row is None or row["region"] != ctx.region or row["owner_id"] != ctx.account_id:
        raise ids.not_found("vol", [volume_id])
    return row


def owned_instance(ctx, instance_id):
    ids.check("i", instance_id)
    row = instance_store.get(ctx.conn, instance_id)
    if row is None or row["region"] != ctx.region or row["owner_id"] != ctx.account_id:
        raise ids.not_found("i", [instance_id])
    return row


def owned_resource(ctx, resource_id: str) -> tuple[str, str]:
    kind = ids.resource_type(resource_id or "")
    if kind == "image":
        access.find_owned(ctx, resource_id)
    elif kind == "snapshot":
        owned_snapshot(ctx, resource_id)
    elif kind == "volume":
        owned_volume(ctx, resource_id)
    elif kind == "instance":
        owned_instance(ctx, resource_id)
    else:
        raise AwsError("InvalidID", f"The ID '{resource_id}' is not valid")
    return resource_id, kind
