from itertools import groupby

from amishare.domain import ids, instance_image_metadata, instances
from amishare.services import operation
from amishare.services.ec2 import shapes
from amishare.services.ec2.targets import IMAGE, INSTANCE, creates, creates_only, named


def _reservations(ctx, rows):
    volumes, tags = instances.instance_details(ctx, rows)
    out = []
    ordered = sorted(rows, key=lambda r: (r["reservation_id"], r["ami_launch_index"]))
    for reservation_id, members in groupby(ordered, key=lambda r: r["reservation_id"]):
        members = list(members)
        out.append({
            "ReservationId": reservation_id,
            "OwnerId": members[0]["owner_id"],
            "Groups": [],
            "Instances": [shapes.instance(r, volumes[r["instance_id"]], tags[r["instance_id"]], ctx.now) for r in members],
        })
    return out


@operation("ec2", resources=creates("instance", named(IMAGE, "ImageId"), creates_only("volume")))
def run_instances(ctx, params):
    return _reservations(ctx, instances.run_instances(ctx, params))[0]


@operation("ec2")
def describe_instances(ctx, params):
    rows, token = instances.describe_instances(
        ctx, params.get("InstanceIds"), params.get("Filters"), params.get("MaxResults"), params.get("NextToken")
    )
    return {"Reservations": _reservations(ctx, rows), "NextToken": token}


def _change(ctx, params, operation_name, result_key):
    instance_ids = ids.check_all("i", params["InstanceIds"])
    return {result_key: instances.change_state(ctx, instance_ids, operation_name)}


@operation("ec2", resources=named(INSTANCE, "InstanceIds"))
def stop_instances(ctx, params):
    return _change(ctx, params, "stop", "StoppingInstances")


@operation("ec2", resources=named(INSTANCE, "InstanceIds"))
def start_instances(ctx, params):
    return _change(ctx, params, "start", "StartingInstances")


@operation("ec2", resources=named(INSTANCE, "InstanceIds"))
def terminate_instances(ctx, params):
    return _change(ctx, params, "terminate", "TerminatingInstances")


@operation("ec2")
def describe_instance_image_metadata(ctx, params):
    rows, found, codes, tags, token = instance_image_metadata.describe(
        ctx, params.get("InstanceIds"), params.get("Filters"), params.get("MaxResults"), params.get("NextToken"))
    return {"InstanceImageMetadata": [shapes.instance_image_metadata(ctx, r, found.get(r["image_id"]), codes,
                                                                     tags[r["instance_id"]]) for r in rows],
            "NextToken": token}
