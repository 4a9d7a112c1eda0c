from amishare.domain import snapshots
from amishare.services import operation
from amishare.services.ec2 import shapes


@operation("ec2")
def create_snapshot(ctx, params):
    row = snapshots.create_snapshot(ctx, params["VolumeId"], params.get("Description"), params.get("TagSpecifications"))
    from amishare.store import tags as tag_store

    tags = tag_store.for_resources(ctx.conn, ctx.account_id, [row["snapshot_id"]])[row["snapshot_id"]]
    return shapes.snapshot(row, tags, ctx.now)


@operation("ec2")
def copy_snapshot(ctx, params):
    snapshot_id = snapshots.copy_snapshot(
        ctx, params["SourceSnapshotId"], params["SourceRegion"], params.get("Description"),
        params.get("Encrypted"), params.get("KmsKeyId"), params.get("TagSpecifications"),
    )
    return {"SnapshotId": snapshot_id}


@operation("ec2")
def delete_snapshot(ctx, params):
    snapshots.delete_snapshot(ctx, params["SnapshotId"])
    return {}


@operation("ec2")
def describe_snapshots(ctx, params):
    rows, tags, token = snapshots.describe_snapshots(
        ctx, params.get("SnapshotIds"), params.get("OwnerIds"), params.get("RestorableByUserIds"),
        params.get("Filters"), params.get("MaxResults"), params.get("NextToken"),
    )
    return {"Snapshots": [shapes.snapshot(r, tags.get(r["snapshot_id"]), ctx.now) for r in rows], "NextToken": token}
