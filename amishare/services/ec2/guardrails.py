from amishare.domain import allowed_images, guardrails, usage
from amishare.services import operation
from amishare.services.ec2.targets import IMAGE, named


@operation("ec2")
def enable_image_block_public_access(ctx, params):
    return {"ImageBlockPublicAccessState": guardrails.set_block_public_access(ctx, params["ImageBlockPublicAccessState"])}


@operation("ec2")
def disable_image_block_public_access(ctx, params):
    return {"ImageBlockPublicAccessState": guardrails.set_block_public_access(ctx, guardrails.UNBLOCKED)}


@operation("ec2")
def get_image_block_public_access_state(ctx, params):
    return {"ImageBlockPublicAccessState": guardrails.block_public_access_state(ctx),
            "ManagedBy": guardrails.block_public_access_managed_by(ctx)}


@operation("ec2")
def enable_snapshot_block_public_access(ctx, params):
    return {"State": guardrails.enable_snapshot_block_public_access(ctx, params["State"])}


@operation("ec2")
def disable_snapshot_block_public_access(ctx, params):
    return {"State": guardrails.set_snapshot_block_public_access(ctx, guardrails.UNBLOCKED)}


@operation("ec2")
def get_snapshot_block_public_access_state(ctx, params):
    return {"State": guardrails.snapshot_block_public_access_state(ctx),
            "ManagedBy": guardrails.snapshot_block_public_access_managed_by(ctx)}


@operation("ec2")
def enable_allowed_images_settings(ctx, params):
    return {"AllowedImagesSettingsState": allowed_images.enable(ctx, params["AllowedImagesSettingsState"])}


@operation("ec2")
def disable_allowed_images_settings(ctx, params):
    return {"AllowedImagesSettingsState": allowed_images.disable(ctx)}


@operation("ec2")
def get_allowed_images_settings(ctx, params):
    state, criteria = allowed_images.settings(ctx)
    return {"State": state, "ImageCriteria": criteria, "ManagedBy": allowed_images.managed_by(ctx)}


@operation("ec2")
def replace_image_criteria_in_allowed_images_settings(ctx, params):
    allowed_images.replace_criteria(ctx, params.get("ImageCriteria"))
    return {"ReturnValue": True}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def enable_image_deprecation(ctx, params):
    guardrails.enable_deprecation(ctx, params["ImageId"], params["DeprecateAt"])
    return {"Return": True}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def disable_image_deprecation(ctx, params):
    guardrails.disable_deprecation(ctx, params["ImageId"])
    return {"Return": True}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def disable_image(ctx, params):
    guardrails.disable_image(ctx, params["ImageId"])
    return {"Return": True}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def enable_image(ctx, params):
    guardrails.enable_image(ctx, params["ImageId"])
    return {"Return": True}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def enable_image_deregistration_protection(ctx, params):
    return {"Return": guardrails.enable_protection(ctx, params["ImageId"], bool(params.get("WithCooldown")))}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def disable_image_deregistration_protection(ctx, params):
    return {"Return": guardrails.disable_protection(ctx, params["ImageId"])}


@operation("ec2", resources=named(IMAGE, "ImageId"))
def create_image_usage_report(ctx, params):
    report_id = usage.create_report(ctx, params["ImageId"], params["ResourceTypes"], params.get("AccountIds"),
                                    params.get("ClientToken"), params.get("TagSpecifications"))
    return {"ReportId": report_id}


@operation("ec2")
def describe_image_usage_reports(ctx, params):
    reports, token = usage.describe_reports(ctx, params.get("ImageIds"), params.get("ReportIds"),
                                            params.get("MaxResults"), params.get("NextToken"))
    return {"ImageUsageReports": reports, "NextToken": token}


@operation("ec2")
def describe_image_usage_report_entries(ctx, params):
    entries, token = usage.describe_entries(ctx, params.get("ImageIds"), params.get("ReportIds"),
                                            params.get("MaxResults"), params.get("NextToken"))
    return {"ImageUsageReportEntries": entries, "NextToken": token}
