"""Rows from the domain, shaped as EC2's output structures."""

from amishare.domain import instance_image_metadata as metadata
from amishare.domain import lifecycle
from amishare.domain.regions import zone_id
from amishare.domain.catalog import ALIAS_ACCOUNTS, free_tier_eligible
from amishare.domain.guardrails import protection_state
from amishare.domain.instances import state_of
from amishare.protocol.scalars import iso8601
from amishare.domain.images import FAILED_STATE_REASON

OWNER_ALIASES = {account: alias for alias, account in ALIAS_ACCOUNTS.items()}


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def block_device(device) -> dict:
    if device["no_device"]:
        return {"DeviceName": device["device_name"], "NoDevice": ""}
    out = {"DeviceName": device["device_name"], "VirtualName": device["virtual_name"]}
    if device["volume_size"] is not None or device["snapshot_id"] is not None:
        out["Ebs"] = _drop_none({
            "DeleteOnTermination": device["delete_on_termination"],
            "SnapshotId": device["snapshot_id"],
            "VolumeSize": device["volume_size"],
            "VolumeType": device["volume_type"],
            "Iops": device["iops"],
            "Throughput": device["throughput"],
            "Encrypted": device["encrypted"],
            "KmsKeyId": device["kms_key_id"],
        })
    return _drop_none(out)


def product_codes(codes) -> list[dict]:
    return [{"ProductCodeId": c["product_code"], "ProductCodeType": c["product_code_type"]} for c in codes]


def image(row, devices, codes, tags, now, caller_id: str) -> dict:
    """Usage facts (when it was last launched) are the owner's; recipients see the image without them."""
    owner_view = row["owner_id"] == caller_id
    state = lifecycle.settled(row, now)
    out = {
        "ImageId": row["image_id"],
        "ImageLocation": row["image_location"] or f"{row['owner_id']}/{row['name']}",
        "State": state,
        "OwnerId": row["owner_id"],
        "CreationDate": iso8601(row["created_at"]),
        "Public": bool(row["is_public"]),
        "ProductCodes": product_codes(codes) or None,
        "Architecture": row["architecture"],
        "ImageType": row["image_type"],
        "KernelId": row["kernel_id"],
        "RamdiskId": row["ramdisk_id"],
        "Platform": row["platform"],
        "PlatformDetails": row["platform_details"],
        "UsageOperation": row["usage_operation"],
        "BlockDeviceMappings": [block_device(d) for d in devices],
        "Description": row["description"],
        "EnaSupport": row["ena_support"],
        "Hypervisor": "xen",
        "ImageOwnerAlias": OWNER_ALIASES.get(row["owner_id"]),
        "Name": row["name"],
        "RootDeviceName": row["root_device_name"],
        "RootDeviceType": row["root_device_type"],
        "SriovNetSupport": row["sriov_net_support"],
        "Tags": tags or None,
        "VirtualizationType": row["virtualization_type"],
        "BootMode": row["boot_mode"],
        "TpmSupport": row["tpm_support"],
        "DeprecationTime": iso8601(row["deprecation_time"]) if row["deprecation_time"] else None,
        "ImdsSupport": row["imds_support"],
        "SourceInstanceId": row["source_instance_id"],
        "DeregistrationProtection": protection_state(row, now),
        "LastLaunchedTime": iso8601(row["last_launched_at"]) if row["last_launched_at"] and owner_view else None,
        "SourceImageId": row["source_image_id"],
        "SourceImageRegion": row["source_image_region"],
        "FreeTierEligible": free_tier_eligible(row["owner_id"]),
    }
    if state == "failed":
        out["StateReason"] = dict(FAILED_STATE_REASON)
    return _drop_none(out)


def snapshot(row, tags, now) -> dict:
    state = lifecycle.settled(row, now)
    return _drop_none({
        "SnapshotId": row["snapshot_id"],
        "VolumeId": row["volume_id"],
        "State": state,
        "StartTime": row["start_time"],
        "Progress": "100%" if state == "completed" else "0%",
        "OwnerId": row["owner_id"],
        "OwnerAlias": OWNER_ALIASES.get(row["owner_id"]),
        "Description": row["description"] or "",
        "VolumeSize": row["volume_size"],
        "Encrypted": bool(row["encrypted"]),
        "KmsKeyId": row["kms_key_id"],
        "StorageTier": "standard",
        "Tags": tags or None,
    })


def volume(row, tags, now) -> dict:
    attachments = []
    if row["instance_id"]:
        attachments.append({
            "AttachTime": row["attach_time"], "Device": row["device"], "InstanceId": row["instance_id"],
            "State": "attached", "VolumeId": row["volume_id"],
            "DeleteOnTermination": bool(row["delete_on_termination"]),
        })
    return _drop_none({
        "VolumeId": row["volume_id"],
        "Size": row["size"],
        "SnapshotId": row["snapshot_id"] or "",
        "AvailabilityZone": row["availability_zone"],
        "State": lifecycle.settled(row, now),
        "CreateTime": row["created_at"],
        "Attachments": attachments,
        "VolumeType": row["volume_type"],
        "Iops": row["iops"],
        "Throughput": row["throughput"],
        "Encrypted": bool(row["encrypted"]),
        "KmsKeyId": row["kms_key_id"],
        "MultiAttachEnabled": bool(row["multi_attach"]),
        "Tags": tags or None,
    })


def instance(row, volumes, tags, now) -> dict:
    import json

    ip = row["private_ip"]
    return _drop_none({
        "InstanceId": row["instance_id"],
        "ImageId": row["image_id"],
        "State": state_of(row, now),
        "PrivateDnsName": f"ip-{ip.replace('.', '-')}.{row['region']}.compute.internal",
        "PublicDnsName": "",
        "StateTransitionReason": row["state_reason"] or "",
        "KeyName": row["key_name"],
        "AmiLaunchIndex": row["ami_launch_index"],
        "ProductCodes": json.loads(row["product_codes"] or "[]"),
        "InstanceType": row["instance_type"],
        "LaunchTime": row["launch_time"],
        "Placement": {"AvailabilityZone": row["availability_zone"], "GroupName": "", "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "PrivateIpAddress": ip,
        "Architecture": row["architecture"],
        "RootDeviceType": row["root_device_type"],
        "RootDeviceName": row["root_device_name"],
        "BlockDeviceMappings": [
            {"DeviceName": v["device"], "Ebs": {"AttachTime": v["attach_time"], "DeleteOnTermination": bool(v["delete_on_termination"]),
                                                "Status": "attached", "VolumeId": v["volume_id"]}}
            for v in volumes
        ],
        "VirtualizationType": row["virtualization_type"],
        "Hypervisor": "xen",
        "ClientToken": row["client_token"] or "",
        "Tags": tags or None,
        "EbsOptimized": bool(row["ebs_optimized"]),
        "Platform": row["platform"],
        "PlatformDetails": row["platform_details"],
        "UsageOperation": row["usage_operation"],
        "BootMode": row["boot_mode"],
    })


def instance_image_metadata(ctx, row, image, codes, tags) -> dict:
    """One instance and the AMI it was launched from (only its id once the AMI is gone)."""
    launched_from = {"ImageId": row["image_id"]}
    if image is not None:
        launched_from.update({
            "Name": image["name"], "OwnerId": image["owner_id"], "State": lifecycle.settled(image, ctx.now),
            "ImageOwnerAlias": OWNER_ALIASES.get(image["owner_id"]), "CreationDate": iso8601(image["created_at"]),
            "DeprecationTime": iso8601(image["deprecation_time"]) if image["deprecation_time"] else None,
            "ImageAllowed": metadata.image_allowed(ctx, image, codes.get(image["image_id"], [])),
            "IsPublic": bool(image["is_public"]),
        })
    return _drop_none({
        "InstanceId": row["instance_id"], "InstanceType": row["instance_type"], "LaunchTime": row["launch_time"],
        "AvailabilityZone": row["availability_zone"], "ZoneId": zone_id(row["availability_zone"]),
        "State": state_of(row, ctx.now), "OwnerId": row["owner_id"], "Tags": tags or None,
        "ImageMetadata": _drop_none(launched_from),
    })
