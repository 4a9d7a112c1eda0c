from amishare.domain import snapshots
from amishare.domain import tags as tag_domain
from amishare.services import operation
from amishare.services.ec2 import shapes
from amishare.services.ec2.targets import SNAPSHOT, VOLUME, creates, named


@operation("ec2", resources=creates("snapshot", named(VOLUME, "VolumeId")))
def create_snapshot(ctx, params):
    row = snapshots.create_snapshot(ctx, params["VolumeId"], params.get("Description"), params.get("TagSpecifications"))
    return shapes.snapshot(row, tag_domain.own_tags(ctx, row["snapshot_id"]), ctx.now)


@operation("ec2", resources=creates("snapshot", named(SNAPSHOT, "SourceSnapshotId", "SourceRegion")))
def copy_snapshot(ctx, params):
    snapshot_id = snapshots.copy_snapshot(
        ctx, params["SourceSnapshotId"], params["SourceRegion"], params.get("Description"),
        params.get("Encrypted"), params.get("KmsKeyId"), params.get("TagSpecifications"),
    )
    return {"SnapshotId": snapshot_id}


@operation("ec2", resources=named(SNAPSHOT, "SnapshotId"))
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
