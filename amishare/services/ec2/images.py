from amishare.domain import allowed_images, image_references, images
from amishare.services import operation
from amishare.services.ec2 import shapes
from amishare.services.ec2.targets import IMAGE, INSTANCE, creates, named


@operation("ec2", resources=creates("image"))
def register_image(ctx, params):
    return {"ImageId": images.register_image(ctx, params)}


@operation("ec2", resources=creates("image", named(INSTANCE, "InstanceId")))
def create_image(ctx, params):
    image_id = images.create_image(
        ctx, params["InstanceId"], params["Name"], params.get("Description"), params.get("NoReboot", False),
        params.get("BlockDeviceMappings"), params.get("TagSpecifications"),
    )
    return {"ImageId": image_id}


@operation("ec2", resources=creates("image", named(IMAGE, "SourceImageId", "SourceRegion")))
def copy_image(ctx, params):
    return {"ImageId": images.copy_image(ctx, params)}


@operation("ec2")
def describe_images(ctx, params):
    rows, token = images.describe_images(ctx, params)
    devices, codes, tags = images.details(ctx, rows)
    out = [shapes.image(r, devices[r["image_id"]], codes[r["image_id"]], tags.get(r["image_id"]), ctx.now,
                         ctx.account_id) for r in rows]
    if allowed_images.settings(ctx)[0] != allowed_images.DISABLED:
        for image, row in zip(out, rows):
            image["ImageAllowed"] = allowed_images.is_allowed(
                ctx, row, [c["product_code"] for c in codes[row["image_id"]]])
    return {"Images": out, "NextToken": token}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def deregister_image(ctx, params):
    results = images.deregister_image(ctx, params["ImageId"], params.get("DeleteAssociatedSnapshots", False))
    out = {"Return": True}
    if params.get("DeleteAssociatedSnapshots"):
        out["DeleteSnapshotResults"] = results
    return out


@operation("ec2")
def describe_image_references(ctx, params):
    references, token = image_references.describe(ctx, params)
    return {"ImageReferences": references, "NextToken": token}
