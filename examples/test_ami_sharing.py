"""Share an AMI with another account, and take it back, against a real amishare server."""

import boto3
import pytest
from botocore.exceptions import ClientError


def test_share_an_ami_with_another_account(amishare):
    owner, partner = amishare.account(), amishare.account()  # fresh accounts, this test's alone
    ec2 = amishare.client(owner, "ec2")
    theirs = amishare.client(partner, "ec2")

    # Build an AMI the way a pipeline does: launch a base image, then image the instance.
    base = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])
    instance = ec2.run_instances(ImageId=base["Images"][0]["ImageId"], InstanceType="t3.micro",
                                 MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance])
    image = ec2.create_image(InstanceId=instance, Name="web-1")["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image])

    # Not shared yet: the partner can't see it.
    assert theirs.describe_images(ExecutableUsers=["self"])["Images"] == []

    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": partner.account_id}]})
    shared = theirs.describe_images(ExecutableUsers=["self"])["Images"]
    assert [i["ImageId"] for i in shared] == [image]
    launched = theirs.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert launched["Instances"][0]["ImageId"] == image

    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Remove": [{"UserId": partner.account_id}]})
    with pytest.raises(ClientError) as refused:
        theirs.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert refused.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"


def test_sessions_work_like_any_boto3_session(amishare, amishare_account):
    session = amishare.session(amishare_account)
    assert isinstance(session, boto3.Session)
    sts = session.client("sts", endpoint_url=amishare.endpoint)
    assert sts.get_caller_identity()["Account"] == amishare_account.account_id
