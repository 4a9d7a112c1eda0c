"""Images: register, create from an instance, describe, copy, deregister."""

import pytest
from botocore.exceptions import ClientError

from support import wait_until


def error_code(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def amazon_image(ec2, name_prefix="al2023-ami-2023"):
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [name_prefix + "*x86_64"]}])["Images"]
    return images[0]


def launch(ec2, image_id, **kwargs):
    instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, **kwargs)["Instances"][0]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 0.1})
    return instance["InstanceId"]


def snapshot_of_new_volume(ec2, size=8, **kwargs):
    volume = ec2.create_volume(AvailabilityZone=ec2.meta.region_name + "a", Size=size, **kwargs)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="root")
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot["SnapshotId"]], WaiterConfig={"Delay": 0.1})
    return snapshot["SnapshotId"]


def register(ec2, name, snapshot_id=None, **kwargs):
    snapshot_id = snapshot_id or snapshot_of_new_volume(ec2)
    image_id = ec2.register_image(
        Name=name, RootDeviceName="/dev/xvda", VirtualizationType="hvm", Architecture="x86_64",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}], **kwargs,
    )["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 0.1})
    return image_id


def test_builtin_catalog(server, alice):
    ec2 = server.client(alice)
    amazon = ec2.describe_images(Owners=["amazon"])["Images"]
    assert len(amazon) >= 4
    assert all(i["ImageOwnerAlias"] == "amazon" and i["Public"] for i in amazon)
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"]
    assert len(market) == 1 and market[0]["ProductCodes"][0]["ProductCodeType"] == "marketplace"
    other_region = server.client(alice, region="eu-west-1").describe_images(Owners=["amazon"])["Images"]
    assert {i["Name"] for i in other_region} == {i["Name"] for i in amazon}
    assert not {i["ImageId"] for i in other_region} & {i["ImageId"] for i in amazon}
    by_filter = ec2.describe_images(Filters=[{"Name": "owner-alias", "Values": ["aws-marketplace"]}])["Images"]
    assert [i["ImageId"] for i in by_filter] == [market[0]["ImageId"]]


def test_register_and_describe(server, alice, bob):
    ec2 = server.client(alice)
    snap = snapshot_of_new_volume(ec2)
    image_id = ec2.register_image(
        Name="golden-1", Description="golden image", RootDeviceName="/dev/xvda", BootMode="uefi",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap, "VolumeSize": 16}}],
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "team", "Value": "platform"}]}],
    )["ImageId"]
    assert image_id.startswith("ami-") and len(image_id) == 21
    first = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert first["State"] in ("pending", "available")
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 0.1})
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["State"] == "available"
    assert image["OwnerId"] == alice.account_id
    assert image["Public"] is False
    assert image["Description"] == "golden image"
    assert image["BootMode"] == "uefi"
    # Not given, so not set (as AWS leaves them); given, shown as given.
    assert "EnaSupport" not in image and "SriovNetSupport" not in image
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="sriovNetSupport")["SriovNetSupport"] == {}
    assert ec2.describe_images(Owners=["self"], Filters=[{"Name": "ena-support", "Values": ["true"]}])["Images"] == []
    enhanced = ec2.register_image(
        Name="golden-ena", RootDeviceName="/dev/xvda", EnaSupport=True, SriovNetSupport="simple",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}])["ImageId"]
    shown = ec2.describe_images(ImageIds=[enhanced])["Images"][0]
    assert shown["EnaSupport"] is True and shown["SriovNetSupport"] == "simple"
    assert [i["ImageId"] for i in ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "ena-support", "Values": ["true"]}])["Images"]] == [enhanced]
    assert image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] == snap
    assert image["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 16
    assert image["Tags"] == [{"Key": "team", "Value": "platform"}]
    assert {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]} == {image_id, enhanced}
    assert image_id in {i["ImageId"] for i in ec2.describe_images(Owners=[alice.account_id])["Images"]}
    # Invisible to others: a private image does not exist for them.
    other = server.client(bob)
    assert error_code(lambda: other.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert other.describe_images(Owners=[alice.account_id])["Images"] == []


def test_register_errors_change_nothing(server, alice):
    ec2 = server.client(alice)
    snap = snapshot_of_new_volume(ec2)
    register(ec2, "dup-name", snap)
    assert error_code(lambda: register(ec2, "dup-name", snap)) == "InvalidAMIName.Duplicate"
    assert error_code(lambda: ec2.register_image(Name="bad name!", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}])) == "InvalidAMIName.Malformed"
    assert error_code(lambda: ec2.register_image(Name="bad-snap", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-nothere"}}])) == "InvalidSnapshotID.Malformed"
    assert error_code(lambda: ec2.register_image(Name="missing-snap", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}])) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: ec2.register_image(Name="small", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap, "VolumeSize": 1}}])) == "InvalidBlockDeviceMapping"
    assert error_code(lambda: ec2.register_image(Name="bad-tags", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "aws:x", "Value": "v"}]}])) == "InvalidParameterValue"
    names = [i["Name"] for i in ec2.describe_images(Owners=["self"])["Images"]]
    assert names == ["dup-name"]
    assert error_code(lambda: ec2.register_image(Name="a" * 129, RootDeviceName="/dev/xvda")) in (
        "InvalidParameterValue", "InvalidAMIName.Malformed")


def test_describe_errors(server, alice):
    ec2 = server.client(alice)
    assert error_code(lambda: ec2.describe_images(ImageIds=["ami-xyz"])) == "InvalidAMIID.Malformed"
    assert error_code(lambda: ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: ec2.describe_images(Filters=[{"Name": "flavour", "Values": ["x"]}])) == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_images(Owners=["nobody"])) == "InvalidUserID.Malformed"
    assert error_code(lambda: ec2.describe_images(MaxResults=2)) == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_images(NextToken="garbage")) == "InvalidPaginationToken"


def test_filters_and_pagination(server, alice):
    ec2 = server.client(alice)
    snap = snapshot_of_new_volume(ec2)
    ids = [register(ec2, f"pager-{i:02d}", snap, TagSpecifications=[
        {"ResourceType": "image", "Tags": [{"Key": "batch", "Value": "odd" if i % 2 else "even"}]}]) for i in range(12)]
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = ec2.describe_images(Owners=["self"], MaxResults=5, **kwargs)
        assert len(page["Images"]) <= 5
        seen.extend(i["ImageId"] for i in page["Images"])
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    paginated = [i["ImageId"] for p in ec2.get_paginator("describe_images").paginate(
        Owners=["self"], PaginationConfig={"PageSize": 5}) for i in p["Images"]]
    assert sorted(paginated) == sorted(ids)
    odd = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:batch", "Values": ["odd"]}])["Images"]
    assert len(odd) == 6
    wild = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["pager-0?"]}])["Images"]
    assert len(wild) == 10
    both = ec2.describe_images(Owners=["self"], Filters=[
        {"Name": "name", "Values": ["pager-1*"]}, {"Name": "tag-key", "Values": ["batch"]},
        {"Name": "state", "Values": ["available"]}, {"Name": "is-public", "Values": ["false"]},
        {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    assert len(both) == 2
    assert ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["PAGER-*"]}])["Images"] == []
    by_ids = ec2.describe_images(ImageIds=ids[:3], Filters=[{"Name": "tag:batch", "Values": ["even"]}])["Images"]
    assert {i["ImageId"] for i in by_ids} == {ids[0], ids[2]}
    by_snapshot = ec2.describe_images(Filters=[{"Name": "block-device-mapping.snapshot-id", "Values": [snap]}])["Images"]
    assert len(by_snapshot) == 12
    public_only = ec2.describe_images(ExecutableUsers=["all"], Filters=[{"Name": "name", "Values": ["pager-*"]}])["Images"]
    assert public_only == []


def test_create_image_from_instance(server, alice):
    ec2 = server.client(alice)
    base = amazon_image(ec2)
    instance_id = launch(ec2, base["ImageId"], InstanceType="t3.micro")
    image_id = ec2.create_image(
        InstanceId=instance_id, Name="my-webserver-ami", Description="web", NoReboot=True,
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "app", "Value": "web"}]},
                           {"ResourceType": "snapshot", "Tags": [{"Key": "app", "Value": "web-snap"}]}],
    )["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 0.1})
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["SourceInstanceId"] == instance_id
    assert image["Tags"] == [{"Key": "app", "Value": "web"}]
    snapshot_id = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    snapshot = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    assert snapshot["OwnerId"] == alice.account_id
    assert snapshot["Tags"] == [{"Key": "app", "Value": "web-snap"}]
    assert image_id in snapshot["Description"]
    # Launch from it, then deregister: the snapshot stays, running instances keep running.
    child = launch(ec2, image_id)
    assert error_code(lambda: ec2.delete_snapshot(SnapshotId=snapshot_id)) == "InvalidSnapshot.InUse"
    assert ec2.deregister_image(ImageId=image_id)["Return"] is True
    assert error_code(lambda: ec2.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "completed"
    state = ec2.describe_instances(InstanceIds=[child])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"
    assert error_code(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    ec2.delete_snapshot(SnapshotId=snapshot_id)


def test_marketplace_product_code_passes_to_created_image(server, alice):
    ec2 = server.client(alice)
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"][0]
    instance_id = launch(ec2, market["ImageId"])
    reservation = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]
    assert reservation["Instances"][0]["ProductCodes"] == market["ProductCodes"]
    image_id = ec2.create_image(InstanceId=instance_id, Name="from-marketplace")["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["ProductCodes"] == market["ProductCodes"]
    code = market["ProductCodes"][0]["ProductCodeId"]
    found = ec2.describe_images(Owners=["self"], Filters=[{"Name": "product-code", "Values": [code]}])["Images"]
    assert [i["ImageId"] for i in found] == [image_id]


def test_copy_image_across_regions(server, alice):
    east = server.client(alice)
    west = server.client(alice, region="us-west-2")
    tagged = register(east, "to-copy", TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}])
    copy_id = west.copy_image(SourceImageId=tagged, SourceRegion="us-east-1", Name="copied", ClientToken="tok-1",
                              CopyImageTags=True)["ImageId"]
    again = west.copy_image(SourceImageId=tagged, SourceRegion="us-east-1", Name="copied", ClientToken="tok-1",
                            CopyImageTags=True)["ImageId"]
    assert again == copy_id
    assert error_code(lambda: west.copy_image(SourceImageId=tagged, SourceRegion="us-east-1", Name="other",
                                              ClientToken="tok-1")) == "IdempotentParameterMismatch"
    west.get_waiter("image_available").wait(ImageIds=[copy_id], WaiterConfig={"Delay": 0.1})
    copy = west.describe_images(ImageIds=[copy_id])["Images"][0]
    assert copy["SourceImageId"] == tagged and copy["SourceImageRegion"] == "us-east-1"
    assert copy["Tags"] == [{"Key": "k", "Value": "v"}]
    new_snapshot = copy["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert west.describe_snapshots(SnapshotIds=[new_snapshot])["Snapshots"][0]["OwnerId"] == alice.account_id
    # Regional: the copy is not visible in the source region, the source not in the destination.
    assert error_code(lambda: east.describe_images(ImageIds=[copy_id])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: west.describe_images(ImageIds=[tagged])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: west.copy_image(SourceImageId=tagged, SourceRegion="atlantis-1", Name="xyz")) == "InvalidParameterValue"


def test_copy_public_amazon_image(server, alice):
    ec2 = server.client(alice)
    base = amazon_image(ec2)
    copy_id = ec2.copy_image(SourceImageId=base["ImageId"], SourceRegion="us-east-1", Name="my-al2023")["ImageId"]
    copy = ec2.describe_images(ImageIds=[copy_id])["Images"][0]
    assert copy["OwnerId"] == alice.account_id and copy["Public"] is False
    # A Marketplace image can't be copied directly; an image of an instance launched from it can.
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"][0]
    assert error_code(lambda: ec2.copy_image(SourceImageId=market["ImageId"], SourceRegion="us-east-1",
                                             Name="market-copy")) == "InvalidRequest"
    own = ec2.create_image(InstanceId=launch(ec2, market["ImageId"]), Name="from-market")["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[own], WaiterConfig={"Delay": 0.1})
    copied = ec2.copy_image(SourceImageId=own, SourceRegion="us-east-1", Name="from-market-copy")["ImageId"]
    assert ec2.describe_images(ImageIds=[copied])["Images"][0]["ProductCodes"] == market["ProductCodes"]


def test_regions_are_isolated(server, alice):
    east = server.client(alice)
    image_id = register(east, "regional")
    eu = server.client(alice, region="eu-central-1")
    assert eu.describe_images(Owners=["self"])["Images"] == []
    assert eu.describe_volumes()["Volumes"] == []
    assert error_code(lambda: eu.deregister_image(ImageId=image_id)) == "InvalidAMIID.NotFound"


def test_deregister_with_associated_snapshots(server, alice):
    ec2 = server.client(alice)
    snap = snapshot_of_new_volume(ec2)
    image_id = register(ec2, "cleanup", snap)
    result = ec2.deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
    assert result["DeleteSnapshotResults"] == [{"SnapshotId": snap, "ReturnCode": "success"}]
    assert error_code(lambda: ec2.describe_snapshots(SnapshotIds=[snap])) == "InvalidSnapshot.NotFound"


def test_waiter_sees_pending_then_available(server, alice):
    ec2 = server.client(alice)
    instance_id = launch(ec2, amazon_image(ec2)["ImageId"])
    image_id = ec2.create_image(InstanceId=instance_id, Name="waited")["ImageId"]
    wait_until(lambda: ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available", timeout=5)
