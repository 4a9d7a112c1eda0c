"""Volumes, snapshots, instances and tags."""

import pytest
from botocore.exceptions import ClientError

from test_images import amazon_image, error_code, register


def test_volumes(server, alice, bob):
    ec2 = server.client(alice)
    volume = ec2.create_volume(AvailabilityZone="us-east-1b", Size=20, VolumeType="gp3", Encrypted=True,
                               TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "n", "Value": "v"}]}])
    assert volume["Size"] == 20 and volume["VolumeType"] == "gp3" and volume["Encrypted"] is True
    assert volume["KmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{alice.account_id}:key/")
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume["VolumeId"]], WaiterConfig={"Delay": 0.1})
    described = ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]
    assert described["State"] == "available" and described["Tags"] == [{"Key": "n", "Value": "v"}]
    assert ec2.describe_volumes(Filters=[{"Name": "size", "Values": ["20"]}])["Volumes"][0]["VolumeId"] == volume["VolumeId"]
    key = server.client(alice, "kms").create_key(Description="volumes")["KeyMetadata"]
    keyed = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True, KmsKeyId=key["KeyId"])
    assert keyed["KmsKeyId"] == key["Arn"]
    assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True,
                                                KmsKeyId="1234abcd-12ab-34cd-56ef-1234567890ab")) == "InvalidParameterValue"
    assert error_code(lambda: server.client(bob).describe_volumes(VolumeIds=[volume["VolumeId"]])) == "InvalidVolume.NotFound"
    assert error_code(lambda: ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1)) == "InvalidParameterValue"
    assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=0)) == "InvalidParameterValue"
    assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="io1")) == "MissingParameter"
    assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, VolumeType="floppy")) == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_volumes(VolumeIds=["vol-zzz"])) == "InvalidVolumeID.Malformed"
    assert error_code(lambda: ec2.describe_volumes(Filters=[{"Name": "colour", "Values": ["x"]}])) == "InvalidParameterValue"
    ec2.delete_volume(VolumeId=volume["VolumeId"])
    assert error_code(lambda: ec2.delete_volume(VolumeId=volume["VolumeId"])) == "InvalidVolume.NotFound"


def test_snapshots(server, alice, bob):
    ec2 = server.client(alice)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=4)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="nightly",
                                   TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "k", "Value": "1"}]}])
    assert snapshot["State"] in ("pending", "completed") and snapshot["VolumeSize"] == 4
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot["SnapshotId"]], WaiterConfig={"Delay": 0.1})
    mine = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert [s["SnapshotId"] for s in mine] == [snapshot["SnapshotId"]]
    assert mine[0]["Progress"] == "100%" and mine[0]["Tags"] == [{"Key": "k", "Value": "1"}]
    assert ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "description", "Values": ["night*"]}])["Snapshots"]
    assert ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "status", "Values": ["pending"]}])["Snapshots"] == []
    west = server.client(alice, region="us-west-2")
    copy = west.copy_snapshot(SourceSnapshotId=snapshot["SnapshotId"], SourceRegion="us-east-1", Description="dr")
    copied = west.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"][0]
    assert copied["Description"] == "dr" and copied["OwnerId"] == alice.account_id
    other = server.client(bob)
    assert error_code(lambda: other.describe_snapshots(SnapshotIds=[snapshot["SnapshotId"]])) == "InvalidSnapshot.NotFound"
    assert other.describe_snapshots(OwnerIds=[alice.account_id])["Snapshots"] == []
    assert error_code(lambda: other.delete_snapshot(SnapshotId=snapshot["SnapshotId"])) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: other.copy_snapshot(SourceSnapshotId=snapshot["SnapshotId"], SourceRegion="us-east-1")) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: ec2.create_snapshot(VolumeId="vol-0123456789abcdef0")) == "InvalidVolume.NotFound"
    restored = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot["SnapshotId"])
    assert restored["Size"] == 4 and restored["SnapshotId"] == snapshot["SnapshotId"]
    ec2.delete_snapshot(SnapshotId=snapshot["SnapshotId"])
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


def test_instances_lifecycle(server, alice, bob):
    ec2 = server.client(alice)
    base = amazon_image(ec2)
    reservation = ec2.run_instances(ImageId=base["ImageId"], MinCount=2, MaxCount=2, InstanceType="t3.small",
                                    Placement={"AvailabilityZone": "us-east-1c"}, KeyName="kp",
                                    TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}])
    assert reservation["OwnerId"] == alice.account_id and len(reservation["Instances"]) == 2
    ids = [i["InstanceId"] for i in reservation["Instances"]]
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 0.1})
    described = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    assert {i["State"]["Name"] for i in described} == {"running"}
    first = described[0]
    assert first["ImageId"] == base["ImageId"] and first["InstanceType"] == "t3.small"
    assert first["Placement"]["AvailabilityZone"] == "us-east-1c" and first["Tags"] == [{"Key": "Name", "Value": "web"}]
    root_volume = first["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    volume = ec2.describe_volumes(VolumeIds=[root_volume])["Volumes"][0]
    assert volume["SnapshotId"] == base["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert volume["State"] == "in-use" and volume["Attachments"][0]["InstanceId"] == first["InstanceId"]
    assert ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["web"]}])["Reservations"]
    assert server.client(bob).describe_instances()["Reservations"] == []
    stopping = ec2.stop_instances(InstanceIds=[ids[0]])["StoppingInstances"][0]
    assert stopping["PreviousState"]["Name"] == "running"
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[ids[0]], WaiterConfig={"Delay": 0.1})
    ec2.start_instances(InstanceIds=[ids[0]])
    ec2.get_waiter("instance_running").wait(InstanceIds=[ids[0]], WaiterConfig={"Delay": 0.1})
    ec2.terminate_instances(InstanceIds=ids)
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 0.1})
    assert error_code(lambda: ec2.describe_volumes(VolumeIds=[root_volume])) == "InvalidVolume.NotFound"
    assert error_code(lambda: ec2.start_instances(InstanceIds=[ids[0]])) == "IncorrectInstanceState"
    assert error_code(lambda: ec2.describe_instances(InstanceIds=["i-123"])) == "InvalidInstanceID.Malformed"
    assert error_code(lambda: ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])) == "InvalidInstanceID.NotFound"
    assert error_code(lambda: server.client(bob).terminate_instances(InstanceIds=[ids[0]])) == "InvalidInstanceID.NotFound"


def test_run_instances_errors(server, alice):
    ec2 = server.client(alice)
    base = amazon_image(ec2)
    assert error_code(lambda: ec2.run_instances(MinCount=1, MaxCount=1)) == "MissingParameter"
    assert error_code(lambda: ec2.run_instances(ImageId="ami-nope", MinCount=1, MaxCount=1)) == "InvalidAMIID.Malformed"
    assert error_code(lambda: ec2.run_instances(ImageId=base["ImageId"], MinCount=3, MaxCount=2)) == "InvalidParameterValue"
    assert error_code(lambda: ec2.run_instances(ImageId=base["ImageId"], MinCount=1, MaxCount=1,
                                                Placement={"AvailabilityZone": "eu-west-1a"})) == "InvalidParameterValue"
    assert ec2.describe_instances()["Reservations"] == []
    token = ec2.run_instances(ImageId=base["ImageId"], MinCount=1, MaxCount=1, ClientToken="same")
    again = ec2.run_instances(ImageId=base["ImageId"], MinCount=1, MaxCount=1, ClientToken="same")
    assert token["ReservationId"] == again["ReservationId"]
    assert len(ec2.describe_instances()["Reservations"]) == 1


def test_tags(server, alice, bob):
    ec2 = server.client(alice)
    image_id = register(ec2, "tagged")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    ec2.create_tags(Resources=[image_id, volume], Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": ""}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image_id]}])["Tags"]
    assert tags == [
        {"Key": "env", "ResourceId": image_id, "ResourceType": "image", "Value": "prod"},
        {"Key": "owner", "ResourceId": image_id, "ResourceType": "image", "Value": ""},
    ]
    assert len(ec2.describe_tags(Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]) == 2
    assert len(ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["volume"]}])["Tags"]) == 2
    ec2.delete_tags(Resources=[image_id], Tags=[{"Key": "env", "Value": "wrong"}])
    assert len(ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image_id]}])["Tags"]) == 2
    ec2.delete_tags(Resources=[image_id], Tags=[{"Key": "env"}])
    assert [t["Key"] for t in ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image_id]}])["Tags"]] == ["owner"]
    page = ec2.describe_tags(MaxResults=5)
    assert len(page["Tags"]) == 3 and "NextToken" not in page
    assert error_code(lambda: ec2.create_tags(Resources=["bogus-1"], Tags=[{"Key": "a", "Value": "b"}])) == "InvalidID"
    assert error_code(lambda: ec2.create_tags(Resources=[image_id], Tags=[{"Key": "aws:x", "Value": "b"}])) == "InvalidParameterValue"
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert error_code(lambda: ec2.create_tags(Resources=[image_id], Tags=too_many)) == "TagLimitExceeded"
    assert len(ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image_id]}])["Tags"]) == 1
    other = server.client(bob)
    assert other.describe_tags()["Tags"] == []
    assert error_code(lambda: other.create_tags(Resources=[volume], Tags=[{"Key": "a", "Value": "b"}])) == "InvalidVolume.NotFound"
    assert error_code(lambda: ec2.describe_tags(Filters=[{"Name": "size", "Values": ["1"]}])) == "InvalidParameterValue"


def test_tags_are_all_or_nothing(server, alice):
    ec2 = server.client(alice)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    with pytest.raises(ClientError):
        ec2.create_tags(Resources=[volume, "vol-0123456789abcdef0"], Tags=[{"Key": "a", "Value": "b"}])
    assert ec2.describe_tags()["Tags"] == []


def test_regions_and_zones(server, alice):
    ec2 = server.client(alice)
    regions = {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions
    assert [r["Endpoint"] for r in ec2.describe_regions(RegionNames=["eu-west-1"])["Regions"]] == ["ec2.eu-west-1.amazonaws.com"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert zones == [f"us-east-1{c}" for c in "abcdef"]
    west = [z["ZoneName"] for z in server.client(alice, region="us-west-2").describe_availability_zones()["AvailabilityZones"]]
    assert west == ["us-west-2a", "us-west-2b", "us-west-2c"]
    assert error_code(lambda: server.client(alice, region="us-west-2").create_volume(AvailabilityZone="us-west-2d", Size=1)) == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_availability_zones(Filters=[{"Name": "colour", "Values": ["x"]}])) == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_regions(RegionNames=["mars-1"])) == "InvalidParameterValue"
