"""Block public access for snapshots: per account and Region, block-new-sharing and block-all-sharing."""

from test_images import error_code, snapshot_of_new_volume


def public(ec2, snapshot_id, op="Add"):
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                  CreateVolumePermission={op: [{"Group": "all"}]})


def permissions(ec2, snapshot_id):
    return ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")[
        "CreateVolumePermissions"]


def public_ids(ec2, owner):
    return {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=[owner.account_id], RestorableByUserIds=["all"])["Snapshots"]}


def test_state_is_per_account_and_region(server, alice, bob):
    east, west = server.client(alice), server.client(alice, region="us-west-2")
    state = east.get_snapshot_block_public_access_state()
    assert (state["State"], state["ManagedBy"]) == ("unblocked", "account")
    assert east.enable_snapshot_block_public_access(State="block-new-sharing")["State"] == "block-new-sharing"
    assert east.get_snapshot_block_public_access_state()["State"] == "block-new-sharing"
    assert west.get_snapshot_block_public_access_state()["State"] == "unblocked"
    assert server.client(bob).get_snapshot_block_public_access_state()["State"] == "unblocked"
    assert error_code(lambda: east.enable_snapshot_block_public_access(State="unblocked")) == "InvalidParameterValue"
    assert error_code(lambda: east.enable_snapshot_block_public_access(State="blocked")) == "InvalidParameterValue"
    assert east.get_snapshot_block_public_access_state()["State"] == "block-new-sharing"
    assert east.disable_snapshot_block_public_access()["State"] == "unblocked"
    assert east.get_snapshot_block_public_access_state()["State"] == "unblocked"
    # The aws CLI, too.
    _, out, _ = server.aws(alice, "ec2", "enable-snapshot-block-public-access", "--state", "block-all-sharing",
                           "--region", "us-west-2")
    assert out == {"State": "block-all-sharing"}
    _, out, _ = server.aws(alice, "ec2", "get-snapshot-block-public-access-state", "--region", "us-west-2")
    assert out == {"State": "block-all-sharing", "ManagedBy": "account"}


def test_blocking_refuses_new_public_sharing(server, alice, bob):
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    for state in ("block-new-sharing", "block-all-sharing"):
        ec2.enable_snapshot_block_public_access(State=state)
        assert error_code(lambda: public(ec2, snapshot_id)) == "OperationNotPermitted"
        assert permissions(ec2, snapshot_id) == []
        assert snapshot_id not in public_ids(server.client(bob), alice)
        # Sharing with accounts is unaffected.
        ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                      CreateVolumePermission={"Add": [{"UserId": bob.account_id}]})
        assert permissions(ec2, snapshot_id) == [{"UserId": bob.account_id}]
        ec2.reset_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    ec2.disable_snapshot_block_public_access()
    public(ec2, snapshot_id)
    assert snapshot_id in public_ids(server.client(bob), alice)


def test_block_new_sharing_keeps_public_snapshots_public(server, alice, bob):
    ec2, theirs = server.client(alice), server.client(bob)
    snapshot_id = snapshot_of_new_volume(ec2)
    public(ec2, snapshot_id)
    ec2.enable_snapshot_block_public_access(State="block-new-sharing")
    assert snapshot_id in public_ids(theirs, alice)
    theirs.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot_id)
    # Making it private is still allowed, and then it can't be made public again.
    public(ec2, snapshot_id, "Remove")
    assert snapshot_id not in public_ids(theirs, alice)
    assert error_code(lambda: public(ec2, snapshot_id)) == "OperationNotPermitted"


def test_block_all_sharing_hides_public_snapshots_and_unblocking_restores_them(server, alice, bob, carol):
    ec2, theirs = server.client(alice), server.client(bob)
    hidden, shared = snapshot_of_new_volume(ec2), snapshot_of_new_volume(ec2)
    west = server.client(alice, region="us-west-2")
    elsewhere = snapshot_of_new_volume(west)
    public(ec2, hidden)
    public(west, elsewhere)
    ec2.modify_snapshot_attribute(SnapshotId=shared, Attribute="createVolumePermission",
                                  CreateVolumePermission={"Add": [{"UserId": bob.account_id}]})
    ec2.enable_snapshot_block_public_access(State="block-all-sharing")

    # Not public to anyone else: not listed, not readable, not restorable or copyable.
    assert hidden not in public_ids(theirs, alice)
    assert hidden not in {s["SnapshotId"] for s in theirs.describe_snapshots(OwnerIds=[alice.account_id])["Snapshots"]}
    assert error_code(lambda: theirs.describe_snapshots(SnapshotIds=[hidden])) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: theirs.create_volume(AvailabilityZone="us-east-1a", SnapshotId=hidden)) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: theirs.copy_snapshot(SourceSnapshotId=hidden, SourceRegion="us-east-1")) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: server.client(carol).create_volume(AvailabilityZone="us-east-1a", SnapshotId=hidden)) == "InvalidSnapshot.NotFound"
    # The permission is still recorded; sharing with accounts, and other Regions, are unaffected.
    assert permissions(ec2, hidden) == [{"Group": "all"}]
    assert theirs.describe_snapshots(SnapshotIds=[shared])["Snapshots"][0]["SnapshotId"] == shared
    assert elsewhere in public_ids(server.client(bob, region="us-west-2"), alice)
    # The owner still uses its own snapshot.
    assert ec2.describe_snapshots(SnapshotIds=[hidden])["Snapshots"][0]["SnapshotId"] == hidden
    ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=hidden)
    # A snapshot made public before the switch and one still waiting can't be made public now.
    assert error_code(lambda: public(ec2, hidden)) == "OperationNotPermitted"
    assert error_code(lambda: public(ec2, shared)) == "OperationNotPermitted"

    # Back to block-new-sharing: public again.
    ec2.enable_snapshot_block_public_access(State="block-new-sharing")
    assert hidden in public_ids(theirs, alice)
    theirs.create_volume(AvailabilityZone="us-east-1a", SnapshotId=hidden)
    ec2.enable_snapshot_block_public_access(State="block-all-sharing")
    assert hidden not in public_ids(theirs, alice)
    ec2.disable_snapshot_block_public_access()
    assert hidden in public_ids(theirs, alice)
    theirs.copy_snapshot(SourceSnapshotId=hidden, SourceRegion="us-east-1")


def test_removing_a_hidden_public_permission_is_remembered(server, alice, bob):
    ec2, theirs = server.client(alice), server.client(bob)
    removed, reset = snapshot_of_new_volume(ec2), snapshot_of_new_volume(ec2)
    public(ec2, removed)
    public(ec2, reset)
    ec2.enable_snapshot_block_public_access(State="block-all-sharing")
    public(ec2, removed, "Remove")
    ec2.reset_snapshot_attribute(SnapshotId=reset, Attribute="createVolumePermission")
    assert permissions(ec2, removed) == [] and permissions(ec2, reset) == []
    ec2.disable_snapshot_block_public_access()
    assert not {removed, reset} & public_ids(theirs, alice)


def test_dry_run_changes_nothing(server, alice):
    ec2 = server.client(alice)
    assert error_code(lambda: ec2.enable_snapshot_block_public_access(State="block-all-sharing", DryRun=True)) == "DryRunOperation"
    assert ec2.get_snapshot_block_public_access_state()["State"] == "unblocked"
