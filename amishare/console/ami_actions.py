"""The AMI page's Actions (besides Edit AMI permissions): each is a form whose fields become the
parameters of one operation, invoked as the signed-in principal. What the console checks is
only the form's own shape (a number is a number); every rule is the API's.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from amishare.application import Outcome
from amishare.domain.regions import is_region
from amishare.errors import AwsError

INSTANCE_TYPES = ["t3.micro", "t3.small", "t3.medium", "m5.large", "c5.large"]
MAX_LAUNCH_COUNT = 20


@dataclass(frozen=True)
class Done:
    message: str
    link: str | None = None  # the console page of what the action made
    link_text: str | None = None


# invoke(operation, params, region=None) -> Outcome
Invoke = Callable[..., Outcome]


def _checked(form: dict, name: str) -> bool:
    return form.get(name) == "on"


def _form_error(message: str) -> Outcome:
    return Outcome(error=AwsError("InvalidParameterValue", message))


def launch(invoke: Invoke, image: dict, form: dict, region: str):
    try:
        count = int(form.get("count") or 1)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_LAUNCH_COUNT:
        return _form_error(f"Number of instances: enter a whole number from 1 to {MAX_LAUNCH_COUNT}."), None
    params = {"ImageId": image["ImageId"], "MinCount": count, "MaxCount": count,
              "InstanceType": form.get("instance_type") or INSTANCE_TYPES[0]}
    name = form.get("instance_name", "").strip()
    if name:
        params["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
    outcome = invoke("RunInstances", params)
    ids = [i["InstanceId"] for i in (outcome.result or {}).get("Instances", [])]
    return outcome, Done(f"Successfully initiated launch of instance {', '.join(ids)}.",
                         f"/console/ec2/instances?region={region}", "View all instances")


def copy(invoke: Invoke, image: dict, form: dict, region: str):
    destination = form.get("destination_region", "")
    if not is_region(destination):
        destination = region
    params = {"SourceImageId": image["ImageId"], "SourceRegion": region,
              "Name": form.get("name") or image.get("Name") or image["ImageId"]}
    if form.get("description"):
        params["Description"] = form["description"]
    if _checked(form, "encrypted"):
        params["Encrypted"] = True
        if form.get("kms_key_id", "").strip():
            params["KmsKeyId"] = form["kms_key_id"].strip()
    if _checked(form, "copy_tags"):
        params["CopyImageTags"] = True
    outcome = invoke("CopyImage", params, region=destination)
    new_id = (outcome.result or {}).get("ImageId")
    return outcome, Done(f"Copying {image['ImageId']} to {destination} as {new_id}.",
                         f"/console/ec2/amis/{new_id}?region={destination}", new_id)


def deprecation(invoke: Invoke, image: dict, form: dict, region: str):
    image_id = image["ImageId"]
    if _checked(form, "enable"):
        try:
            when = datetime.strptime(form.get("deprecate_at", ""), "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
        except ValueError:
            return _form_error("Enter the deprecation date and time as YYYY-MM-DDTHH:MM (UTC)."), None
        outcome = invoke("EnableImageDeprecation", {"ImageId": image_id, "DeprecateAt": when})
        return outcome, Done(f"{image_id} will be deprecated at {when.isoformat()}.")
    return invoke("DisableImageDeprecation", {"ImageId": image_id}), Done(f"Deprecation of {image_id} cancelled.")


def protection(invoke: Invoke, image: dict, form: dict, region: str):
    image_id = image["ImageId"]
    if form.get("protection") == "enabled":
        outcome = invoke("EnableImageDeregistrationProtection",
                         {"ImageId": image_id, "WithCooldown": _checked(form, "cooldown")})
        return outcome, Done(f"Deregistration protection enabled for {image_id}.")
    outcome = invoke("DisableImageDeregistrationProtection", {"ImageId": image_id})
    state = (outcome.result or {}).get("Return")  # "disabled", or "disabled-until …" after a cooldown
    return outcome, Done(f"Deregistration protection of {image_id}: {state}.")


def disable(invoke: Invoke, image: dict, form: dict, region: str):
    return invoke("DisableImage", {"ImageId": image["ImageId"]}), Done(f"Disabled {image['ImageId']}.")


def enable(invoke: Invoke, image: dict, form: dict, region: str):
    return invoke("EnableImage", {"ImageId": image["ImageId"]}), Done(f"Re-enabled {image['ImageId']}.")


def deregister(invoke: Invoke, image: dict, form: dict, region: str):
    params = {"ImageId": image["ImageId"]}
    if _checked(form, "delete_snapshots"):
        params["DeleteAssociatedSnapshots"] = True
    outcome = invoke("DeregisterImage", params)
    kept = "Its snapshots were deleted." if params.get("DeleteAssociatedSnapshots") else "Its snapshots remain."
    return outcome, Done(f"Deregistered {image['ImageId']}. {kept}", f"/console/ec2/snapshots?region={region}",
                         "Snapshots")


# key (the page's address) -> (AWS's words for it, the action)
ACTIONS = {
    "launch": ("Launch instance from AMI", launch),
    "copy": ("Copy AMI", copy),
    "deprecation": ("Manage AMI deprecation", deprecation),
    "protection": ("Manage AMI deregistration protection", protection),
    "disable": ("Disable AMI", disable),
    "enable": ("Re-enable AMI", enable),
    "deregister": ("Deregister AMI", deregister),
}
