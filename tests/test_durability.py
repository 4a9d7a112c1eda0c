"""Acknowledged writes survive a crash of the server."""

import pytest

from support import Server, database_url, free_port, server_env


@pytest.fixture
def own_server(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    srv = Server(db_url=url, port=free_port(), env=server_env(tmp_path), log_path=tmp_path / "server.log").start()
    yield srv
    srv.stop()
    cleanup()


def test_kill_and_restart_keeps_every_acknowledged_write(own_server):
    srv = own_server
    account = srv.new_account()
    ec2 = srv.client(account)
    volume_ids = [ec2.create_volume(AvailabilityZone="us-east-1a", Size=i + 1)["VolumeId"] for i in range(20)]
    snapshot_id = ec2.create_snapshot(VolumeId=volume_ids[0])["SnapshotId"]
    ec2.create_tags(Resources=[volume_ids[1]], Tags=[{"Key": "k", "Value": "v"}])
    srv.stop(kill=True)
    srv.start()
    ec2 = srv.client(account)
    assert sorted(v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]) == sorted(volume_ids)
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["SnapshotId"] == snapshot_id
    assert ec2.describe_tags()["Tags"][0]["ResourceId"] == volume_ids[1]
    assert srv.client(account, "sts").get_caller_identity()["Account"] == account.account_id
