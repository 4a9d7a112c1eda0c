"""Who an owner shares with is the owner's business: describe filters never tell another
account which of the owner's images and snapshots are shared with whom."""

from test_images import register, snapshot_of_new_volume
from test_sharing import unblock


def image_ids(ec2, **kwargs):
    return sorted(i["ImageId"] for i in ec2.describe_images(**kwargs)["Images"])


def snapshot_ids(ec2, **kwargs):
    return sorted(s["SnapshotId"] for s in ec2.describe_snapshots(**kwargs)["Snapshots"])


def test_executable_users_only_reveal_the_callers_own_grants(server, alice, bob, carol):
    dave = server.new_account()
    a, b, c = server.client(alice), server.client(bob), server.client(carol)
    unblock(server, alice)
    shared = register(a, "shared-with-b-and-c")
    a.modify_image_attribute(ImageId=shared, LaunchPermission={"Add": [{"UserId": bob.account_id},
                                                                       {"UserId": carol.account_id}]})
    public = register(a, "public-and-granted-to-d")
    a.modify_image_attribute(ImageId=public, LaunchPermission={"Add": [{"Group": "all"}, {"UserId": dave.account_id}]})
    own = register(b, "b-shares-with-c")
    b.modify_image_attribute(ImageId=own, LaunchPermission={"Add": [{"UserId": carol.account_id}]})
    # B sees both of A's images, but learns nothing about A's grants to C and D.
    assert {shared, public} <= set(image_ids(b))
    assert image_ids(b, ExecutableUsers=[carol.account_id]) == [own]
    assert image_ids(b, ExecutableUsers=[dave.account_id]) == []
    assert image_ids(b, ImageIds=[shared], ExecutableUsers=[carol.account_id]) == []
    assert image_ids(b, ImageIds=[public], ExecutableUsers=[dave.account_id]) == []
    assert image_ids(b, ImageIds=[public, shared], ExecutableUsers=[dave.account_id, carol.account_id]) == []
    assert image_ids(b, Owners=[alice.account_id], ExecutableUsers=[dave.account_id]) == []
    assert image_ids(b, Owners=[alice.account_id], ExecutableUsers=[carol.account_id]) == []
    _, seen, _ = server.aws(bob, "ec2", "describe-images", "--executable-users", carol.account_id)
    assert [i["ImageId"] for i in seen["Images"]] == [own]
    # What B may know: its own grants, what is shared with B, and the public set.
    assert image_ids(b, ExecutableUsers=["self"]) == [shared]
    assert public in image_ids(b, ExecutableUsers=["all"])
    assert set(image_ids(b, ExecutableUsers=["all", carol.account_id])) >= {public, own}
    assert shared not in image_ids(b, ExecutableUsers=["all", carol.account_id])
    # The owner sees its own grants; C sees what is shared with it.
    assert image_ids(a, ExecutableUsers=[carol.account_id]) == [shared]
    assert image_ids(a, ExecutableUsers=[dave.account_id]) == [public]
    assert image_ids(a, ImageIds=[public], ExecutableUsers=[dave.account_id]) == [public]
    assert image_ids(c, ExecutableUsers=["self"]) == sorted([shared, own])


def test_restorable_by_only_reveals_the_callers_own_grants(server, alice, bob, carol):
    dave = server.new_account()
    a, b = server.client(alice), server.client(bob)
    shared = snapshot_of_new_volume(a)
    a.modify_snapshot_attribute(SnapshotId=shared, CreateVolumePermission={"Add": [
        {"UserId": bob.account_id}, {"UserId": carol.account_id}]})
    public = snapshot_of_new_volume(a)
    a.modify_snapshot_attribute(SnapshotId=public, CreateVolumePermission={"Add": [
        {"Group": "all"}, {"UserId": dave.account_id}]})
    own = snapshot_of_new_volume(b)
    b.modify_snapshot_attribute(SnapshotId=own, CreateVolumePermission={"Add": [{"UserId": carol.account_id}]})
    assert snapshot_ids(b, RestorableByUserIds=[carol.account_id]) == [own]
    assert snapshot_ids(b, RestorableByUserIds=[dave.account_id]) == []
    assert snapshot_ids(b, SnapshotIds=[shared], RestorableByUserIds=[carol.account_id]) == []
    assert snapshot_ids(b, SnapshotIds=[public], RestorableByUserIds=[dave.account_id]) == []
    assert snapshot_ids(b, OwnerIds=[alice.account_id], RestorableByUserIds=[dave.account_id]) == []
    _, seen, _ = server.aws(bob, "ec2", "describe-snapshots", "--restorable-by-user-ids", carol.account_id)
    assert [s["SnapshotId"] for s in seen["Snapshots"]] == [own]
    assert snapshot_ids(b, RestorableByUserIds=["self"]) == sorted([shared, own])
    assert public in snapshot_ids(b, RestorableByUserIds=["all"])
    assert snapshot_ids(b, SnapshotIds=[public]) == [public]
    assert snapshot_ids(a, RestorableByUserIds=[carol.account_id]) == [shared]
    assert snapshot_ids(a, RestorableByUserIds=[dave.account_id]) == [public]
    assert snapshot_ids(a, SnapshotIds=[public], RestorableByUserIds=[dave.account_id]) == [public]
