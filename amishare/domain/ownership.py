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


def snapshot_readable(ctx, row) -> bool:
    """The caller may read (copy, restore) a snapshot: it owns it, or it is public or shared with it."""
    if row["owner_id"] == ctx.account_id:
        return True
    return row["is_public"] or snapshot_store.is_granted(ctx.conn, row["snapshot_id"], ctx.account_id)


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
