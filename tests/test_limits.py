"""Limits on what one call and one account can make the store hold: block device mappings
per image and launch, instances per RunInstances call, running instances and volumes per
account and Region (configurable like the other quotas)."""

from contextlib import contextmanager

from alembic import command
from sqlalchemy import text

from amishare.domain.ids import new_id
from amishare.store import images as image_store
from amishare.store import settings as settings_store
from amishare.store.db import _alembic_config, open_store
from support import Server, database_url, free_port, server_env
from test_images import error_code, snapshot_of_new_volume
from test_store import _image

ROOT = "/dev/xvda"


def data_devices(count, size=1):
    return [{"DeviceName": f"/dev/sd{chr(ord('b') + i // 26)}{chr(ord('a') + i % 26)}", "Ebs": {"VolumeSize": size}}
            for i in range(count)]


def register_with(ec2, name, snapshot_id, extra):
    image_id = ec2.register_image(Name=name, RootDeviceName=ROOT, BlockDeviceMappings=[
        {"DeviceName": ROOT, "Ebs": {"SnapshotId": snapshot_id}}] + extra)["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 0.1})
    return image_id


@contextmanager
def store_of(server):
    store = open_store(server.db_url, run_migrations=False)
    try:
        with store.transaction() as conn:
            yield conn
    finally:
        store.dispose()


def test_block_device_mappings_per_image_and_launch(server, alice):
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2, size=1)
    assert error_code(lambda: register_with(ec2, "too-many-devices", snapshot_id, data_devices(128))) \
        == "InvalidBlockDeviceMapping"
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    widest = register_with(ec2, "widest", snapshot_id, data_devices(127))
    assert len(ec2.describe_images(ImageIds=[widest])["Images"][0]["BlockDeviceMappings"]) == 128
    overrides = [{"DeviceName": ROOT, "Ebs": {"VolumeSize": 2}}] + data_devices(128)
    assert error_code(lambda: ec2.run_instances(ImageId=widest, MinCount=1, MaxCount=1, BlockDeviceMappings=overrides)) \
        == "InvalidBlockDeviceMapping"
    # An image written with more mappings (by an earlier version) can't be launched or copied.
    with store_of(server) as conn:
        wide = _image(new_id("ami"), alice.account_id, name="legacy-wide")
        image_store.insert_image(conn, wide, [dict(
            device_name=f"/dev/xvd{i}", virtual_name=None, no_device=False, snapshot_id=None, volume_size=1,
            volume_type="gp2", iops=None, throughput=None, encrypted=False, kms_key_id=None,
            delete_on_termination=True) for i in range(1000)], [])
    for call in (lambda: ec2.run_instances(ImageId=wide["image_id"], MinCount=1, MaxCount=100),
                 lambda: ec2.copy_image(SourceImageId=wide["image_id"], SourceRegion="us-east-1", Name="wide-copy")):
        assert error_code(call) == "InvalidBlockDeviceMapping"
    assert ec2.describe_instances()["Reservations"] == []
    assert len(ec2.describe_volumes()["Volumes"]) == 1
    # More than 100 instances in one call is refused; MaxCount above it launches 100 at most.
    base = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])["Images"][0]
    assert error_code(lambda: ec2.run_instances(ImageId=base["ImageId"], MinCount=101, MaxCount=101)) \
        == "InstanceLimitExceeded"


def count_instances(ec2):
    return sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])


def test_running_instance_and_volume_quotas(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    env = server_env(tmp_path)
    env.update(AMISHARE_MAX_INSTANCES="3", AMISHARE_MAX_VOLUMES="7")
    srv = Server(db_url=url, port=free_port(), env=env, log_path=tmp_path / "server.log").start(state_delay=0)
    try:
        account = srv.new_account()
        ec2 = srv.client(account)
        snapshot_id = snapshot_of_new_volume(ec2, size=1)
        ec2.delete_volume(VolumeId=ec2.describe_volumes()["Volumes"][0]["VolumeId"])
        image_id = register_with(ec2, "three-volumes", snapshot_id, data_devices(2))
        # 7 volumes allow 2 launches of 3 volumes: EC2 launches as many as it can above MinCount.
        launched = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=100)["Instances"]
        assert len(launched) == 2 and len(ec2.describe_volumes()["Volumes"]) == 6
        assert error_code(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "VolumeLimitExceeded"
        assert count_instances(ec2) == 2
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
        assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)) == "VolumeLimitExceeded"
        assert len(ec2.describe_volumes()["Volumes"]) == 7
        # Without volumes, the running-instance quota (3) is what binds.
        bare = [{"DeviceName": d, "NoDevice": ""} for d in [ROOT] + [m["DeviceName"] for m in data_devices(2)]]
        assert error_code(lambda: ec2.run_instances(ImageId=image_id, MinCount=2, MaxCount=2, BlockDeviceMappings=bare)) \
            == "InstanceLimitExceeded"
        third = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=5, BlockDeviceMappings=bare)["Instances"]
        assert len(third) == 1 and count_instances(ec2) == 3
        # Stopped instances don't count; starting one counts again.
        ec2.stop_instances(InstanceIds=[third[0]["InstanceId"]])
        fourth = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, BlockDeviceMappings=bare)["Instances"][0]
        assert error_code(lambda: ec2.start_instances(InstanceIds=[third[0]["InstanceId"]])) == "InstanceLimitExceeded"
        state = ec2.describe_instances(InstanceIds=[third[0]["InstanceId"]])["Reservations"][0]["Instances"][0]["State"]
        assert state["Name"] == "stopped"
        # Terminating frees the instance and the volumes deleted with it.
        ec2.terminate_instances(InstanceIds=[launched[0]["InstanceId"], fourth["InstanceId"]])
        ec2.start_instances(InstanceIds=[third[0]["InstanceId"]])
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, BlockDeviceMappings=bare)
        assert error_code(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, BlockDeviceMappings=bare)) \
            == "InstanceLimitExceeded"
        # Each Region has its own quotas.
        srv.client(account, region="us-west-2").create_volume(AvailabilityZone="us-west-2a", Size=1)
        # A database from before the counters were kept gets them filled from its rows.
        srv.stop()
        with store_of(srv) as conn:
            expected = {name: settings_store.counter(conn, account.account_id, "us-east-1", name)
                        for name in ("instances", "volumes")}
            assert expected == {"instances": 3, "volumes": 5}
            command.downgrade(_alembic_config(conn), "0005")
            assert conn.execute(text("SELECT count(*) FROM usage_counters WHERE name = 'volumes'")).scalar() == 0
        srv.start(state_delay=0)
        with store_of(srv) as conn:
            assert {name: settings_store.counter(conn, account.account_id, "us-east-1", name)
                    for name in ("instances", "volumes")} == expected
        for _ in range(2):
            ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
        assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)) == "VolumeLimitExceeded"
    finally:
        srv.stop()
        cleanup()
