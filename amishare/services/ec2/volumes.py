from amishare.domain import tags as tag_domain
from amishare.domain import volumes
from amishare.services import operation
from amishare.services.ec2 import shapes
from amishare.services.ec2.targets import SNAPSHOT, VOLUME, creates, named


@operation("ec2", resources=creates("volume", named(SNAPSHOT, "SnapshotId")))
def create_volume(ctx, params):
    row = volumes.create_volume(
        ctx, availability_zone=params.get("AvailabilityZone"), size=params.get("Size"),
        snapshot_id=params.get("SnapshotId"), volume_type=params.get("VolumeType"), iops=params.get("Iops"),
        throughput=params.get("Throughput"), encrypted=params.get("Encrypted"), kms_key_id=params.get("KmsKeyId"),
        multi_attach=params.get("MultiAttachEnabled"), tag_specifications=params.get("TagSpecifications"),
    )
    return shapes.volume(row, tag_domain.own_tags(ctx, row["volume_id"]), ctx.now)


@operation("ec2", resources=named(VOLUME, "VolumeId"))
def delete_volume(ctx, params):
    volumes.delete_volume(ctx, params["VolumeId"])
    return {}


@operation("ec2")
def describe_volumes(ctx, params):
    rows, tags, token = volumes.describe_volumes(
        ctx, params.get("VolumeIds"), params.get("Filters"), params.get("MaxResults"), params.get("NextToken")
    )
    return {"Volumes": [shapes.volume(r, tags.get(r["volume_id"]), ctx.now) for r in rows], "NextToken": token}
