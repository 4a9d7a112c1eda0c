"""Resource condition keys (ec2:ResourceTag/…, aws:ResourceTag/…, ec2:Owner, …) are read only for
resources the caller may see: another account's private image, snapshot, volume or instance is
named exactly as an id that doesn't exist, so no policy can answer differently for it and tell
the caller its tags or its owner. Through the real API, on both databases."""

import json

import pytest
from botocore.exceptions import ClientError

from support import policy_document
from test_images import launch, register, snapshot_of_new_volume

SECRET = [{"Key": "Secret", "Value": "yes"}]
MISSING = {"volume": "vol-0123456789abcdef0", "instance": "i-0123456789abcdef0",
           "snapshot": "snap-0123456789abcdef0", "image": "ami-0123456789abcdef0"}


def answer(call, resource_id):
    """What the caller learns from a refused call: its error code and message, the id masked."""
    with pytest.raises(ClientError) as exc:
        call()
    error = exc.value.response["Error"]
    message = error["Message"].split("Encoded authorization failure message")[0]
    return error["Code"], message.replace(resource_id, "<id>")


@pytest.fixture
def secrets(server, bob):
    """bob's private image, snapshot, volume and instance, all tagged Secret=yes."""
    ec2 = server.client(bob)
    snapshot = snapshot_of_new_volume(ec2)
    image = register(ec2, "secret", snapshot_of_new_volume(ec2))
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    instance = launch(ec2, image)
    found = {"volume": volume, "instance": instance, "snapshot": snapshot, "image": image}
    ec2.create_tags(Resources=list(found.values()), Tags=SECRET)
    return found


CALLS = {
    "volume": lambda ec2, rid: ec2.delete_volume(VolumeId=rid),
    "instance": lambda ec2, rid: ec2.stop_instances(InstanceIds=[rid]),
    "snapshot": lambda ec2, rid: ec2.delete_snapshot(SnapshotId=rid),
    "image": lambda ec2, rid: ec2.describe_image_attribute(ImageId=rid, Attribute="description"),
}


def prober(server, account, name, *statements):
    user = server.new_user(account, name)
    server.client(account, "iam").put_user_policy(UserName=name, PolicyName="probe",
                                                  PolicyDocument=policy_document(*statements))
    return server.client(user)


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"ec2:ResourceTag/Secret": "yes"}},
    {"StringEquals": {"aws:ResourceTag/Secret": "yes"}},
    {"Null": {"ec2:ResourceTag/Secret": "false"}},
])
def test_another_accounts_tags_are_no_oracle(server, alice, bob, secrets, condition):
    allow_if = prober(server, alice, "allow-if", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                                                   "Condition": condition})
    deny_if = prober(server, alice, "deny-if", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "ec2:*", "Resource": "*", "Condition": condition})
    for kind, resource_id in secrets.items():
        for ec2 in (allow_if, deny_if):
            theirs = answer(lambda: CALLS[kind](ec2, resource_id), resource_id)
            nothing = answer(lambda: CALLS[kind](ec2, MISSING[kind]), MISSING[kind])
            assert theirs == nothing, kind
            assert bob.account_id not in theirs[1]
    # Nothing changed for bob.
    assert server.client(bob).describe_volumes(VolumeIds=[secrets["volume"]])["Volumes"][0]["State"] == "available"
    state = server.client(bob).describe_instances(InstanceIds=[secrets["instance"]])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"


def test_another_accounts_ownership_is_no_oracle(server, alice, bob, secrets):
    ec2 = prober(server, alice, "owner-probe", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                 {"Effect": "Deny", "Action": "ec2:*", "Resource": "*",
                  "Condition": {"StringEquals": {"ec2:Owner": bob.account_id}}})
    for kind in ("image", "snapshot"):
        assert answer(lambda: CALLS[kind](ec2, secrets[kind]), secrets[kind]) == \
            answer(lambda: CALLS[kind](ec2, MISSING[kind]), MISSING[kind])
    # The aws CLI gets the same answer.
    user_key = server.client(alice, "iam").create_access_key(UserName="owner-probe")["AccessKey"]
    from support import Account

    user = Account(alice.account_id, user_key["AccessKeyId"], user_key["SecretAccessKey"])
    outputs = []
    for image_id in (secrets["image"], MISSING["image"]):
        code, _, err = server.aws(user, "ec2", "describe-image-attribute", "--image-id", image_id,
                                  "--attribute", "description", check=False)
        outputs.append((code, err.replace(image_id, "<id>")))
    assert outputs[0] == outputs[1] and "InvalidAMIID.NotFound" in outputs[0][1]


def test_shared_resources_supply_their_keys(server, alice, bob, secrets):
    """What is shared with the caller is visible, so its condition keys apply; unsharing hides them again."""
    bob_ec2 = server.client(bob)
    bob_ec2.modify_image_attribute(ImageId=secrets["image"], LaunchPermission={"Add": [{"UserId": alice.account_id}]})
    ec2 = prober(server, alice, "shared-probe", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                 {"Effect": "Deny", "Action": "ec2:CopyImage", "Resource": "*",
                  "Condition": {"StringEquals": {"ec2:ResourceTag/Secret": "yes", "ec2:Owner": bob.account_id}}})
    code, message = answer(lambda: ec2.copy_image(SourceImageId=secrets["image"], SourceRegion="us-east-1", Name="copy"),
                           secrets["image"])
    assert code == "UnauthorizedOperation" and "explicit deny" in message
    assert server.client(alice).describe_images(Owners=["self"])["Images"] == []
    bob_ec2.modify_image_attribute(ImageId=secrets["image"], LaunchPermission={"Remove": [{"UserId": alice.account_id}]})
    code, _ = answer(lambda: ec2.copy_image(SourceImageId=secrets["image"], SourceRegion="us-east-1", Name="copy"),
                     secrets["image"])
    assert code == "InvalidAMIID.NotFound"
    # The snapshot, shared for volume creation, is visible too.
    bob_ec2.modify_snapshot_attribute(SnapshotId=secrets["snapshot"], Attribute="createVolumePermission",
                                      OperationType="add", UserIds=[alice.account_id])
    volumes = prober(server, alice, "volume-probe", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "ec2:CreateVolume", "Resource": "arn:aws:ec2:*::snapshot/*",
                      "Condition": {"StringEquals": {"ec2:ResourceTag/Secret": "yes"}}})
    code, message = answer(lambda: volumes.create_volume(AvailabilityZone="us-east-1a", SnapshotId=secrets["snapshot"]),
                           secrets["snapshot"])
    assert code == "UnauthorizedOperation"
    assert json.dumps(server.client(alice).describe_volumes()["Volumes"]) == "[]"
