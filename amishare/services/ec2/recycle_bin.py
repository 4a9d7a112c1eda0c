"""AMIs in the Recycle Bin."""

from amishare.domain import recycle_bin
from amishare.services import operation


@operation("ec2")
def list_images_in_recycle_bin(ctx, params):
    rows, token = recycle_bin.list_images(ctx, params.get("ImageIds"), params.get("MaxResults"), params.get("NextToken"))
    images = [{"ImageId": r["image_id"], "Name": r["name"], "Description": r["description"],
               "RecycleBinEnterTime": r["entered_at"], "RecycleBinExitTime": r["exit_at"]} for r in rows]
    return {"Images": images, "NextToken": token}


@operation("ec2")
def restore_image_from_recycle_bin(ctx, params):
    recycle_bin.restore_image(ctx, params["ImageId"])
    return {"Return": True}
