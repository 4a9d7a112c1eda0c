"""Image and snapshot attributes: launch and create-volume permissions, description, ..."""

from amishare.domain import access, sharing
from amishare.domain.guardrails import protection_state
from amishare.domain.images import details
from amishare.protocol.scalars import iso8601
from amishare.services import operation
from amishare.services.ec2 import shapes
from amishare.services.ec2.targets import IMAGE, SNAPSHOT, named, permission_context


@operation("ec2", resources=named(IMAGE, "ImageId"), context=permission_context("LaunchPermission"))
def modify_image_attribute(ctx, params):
    sharing.modify_image_attribute(ctx, params)
    return {}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def reset_image_attribute(ctx, params):
    sharing.reset_image_attribute(ctx, params["ImageId"], params["Attribute"])
    return {}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def cancel_image_launch_permission(ctx, params):
    sharing.cancel_launch_permission(ctx, params["ImageId"])
    return {"Return": True}


def _value(value):
    return {"Value": value} if value is not None else {}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def describe_image_attribute(ctx, params):
    image = access.find_owned(ctx, params["ImageId"])
    attribute = params["Attribute"]
    out = {"ImageId": image["image_id"]}
    if attribute == "launchPermission":
        out["LaunchPermissions"] = sharing.launch_permission_entries(ctx, image)
    elif attribute in ("productCodes", "blockDeviceMapping"):
        devices, codes, _ = details(ctx, [image])
        if attribute == "productCodes":
            out["ProductCodes"] = shapes.product_codes(codes[image["image_id"]])
        else:
            out["BlockDeviceMappings"] = [shapes.block_device(d) for d in devices[image["image_id"]]]
    else:
        simple = {
            "description": ("Description", image["description"]),
            "kernel": ("KernelId", image["kernel_id"]),
            "ramdisk": ("RamdiskId", image["ramdisk_id"]),
            "sriovNetSupport": ("SriovNetSupport", image["sriov_net_support"]),
            "bootMode": ("BootMode", image["boot_mode"]),
            "tpmSupport": ("TpmSupport", image["tpm_support"]),
            "uefiData": ("UefiData", None),
            "imdsSupport": ("ImdsSupport", image["imds_support"]),
            "lastLaunchedTime": ("LastLaunchedTime",
                                 iso8601(image["last_launched_at"]) if image["last_launched_at"] else None),
            "deregistrationProtection": ("DeregistrationProtection", protection_state(image, ctx.now)),
        }
        key, value = simple[attribute]
        out[key] = _value(value)
    return out


@operation("ec2", resources=named(SNAPSHOT, "SnapshotId"), context=permission_context("CreateVolumePermission"))
def modify_snapshot_attribute(ctx, params):
    sharing.modify_snapshot_attribute(ctx, params)
    return {}


@operation("ec2", resources=named(SNAPSHOT, "SnapshotId"))
def describe_snapshot_attribute(ctx, params):
    return sharing.describe_snapshot_attribute(ctx, params["SnapshotId"], params["Attribute"])


@operation("ec2", resources=named(SNAPSHOT, "SnapshotId"))
def reset_snapshot_attribute(ctx, params):
    sharing.reset_snapshot_attribute(ctx, params["SnapshotId"], params["Attribute"])
    return {}
