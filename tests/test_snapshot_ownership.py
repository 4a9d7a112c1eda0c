"""Snapshots behind other accounts' images: an image is registered on the caller's own
snapshot, withdrawn access is gone for every path, and another account's image never blocks
the owner's delete. The Marketplace image's snapshot is its seller's alone."""

from amishare.domain.catalog import MARKETPLACE
from amishare.domain.ids import new_id
from amishare.store import images as image_store
from amishare.store import settings as settings_store
from amishare.store import snapshots as snapshot_store
from amishare.store.db import open_store
from support import Server, database_url, free_port, server_env
from test_images import error_code, launch, register, snapshot_of_new_volume
from test_sharing import unblock
from test_store import _image


def share_snapshot(ec2, snapshot_id, *entries):
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, CreateVolumePermission={"Add": list(entries)})


def withdraw_snapshot(ec2, snapshot_id, *entries):
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, CreateVolumePermission={"Remove": list(entries)})


def register_on(ec2, name, snapshot_id):
    return ec2.register_image(Name=name, RootDeviceName="/dev/xvda", VirtualizationType="hvm",
                              BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}])


def test_register_image_needs_the_callers_own_snapshot(server, alice, bob, carol):
    a, c, d = server.client(alice), server.client(bob), server.client(carol)
    snapshot_id = snapshot_of_new_volume(a)
    share_snapshot(a, snapshot_id, {"Group": "all"}, {"UserId": bob.account_id})
    # Readable, not owned: refused, nothing registered. Unreadable: it doesn't exist for the caller.
    assert error_code(lambda: register_on(c, "on-a-snapshot", snapshot_id)) == "OperationNotPermitted"
    assert c.describe_images(Owners=["self"])["Images"] == []
    withdraw_snapshot(a, snapshot_id, {"Group": "all"}, {"UserId": bob.account_id})
    assert error_code(lambda: register_on(c, "on-a-snapshot", snapshot_id)) == "InvalidSnapshot.NotFound"
    share_snapshot(a, snapshot_id, {"UserId": bob.account_id})
    # The documented way: copy the shared snapshot, register the copy.
    copy_id = c.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1")["SnapshotId"]
    c.get_waiter("snapshot_completed").wait(SnapshotIds=[copy_id], WaiterConfig={"Delay": 0.1})
    image_id = register(c, "on-my-copy", copy_id)
    unblock(server, bob)
    c.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    # A withdraws: C can no longer read A's snapshot by any path; A deletes it; C's copy lives on.
    withdraw_snapshot(a, snapshot_id, {"UserId": bob.account_id})
    assert error_code(lambda: c.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot_id)) == "InvalidSnapshot.NotFound"
    assert error_code(lambda: c.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1")) \
        == "InvalidSnapshot.NotFound"
    assert error_code(lambda: c.describe_snapshots(SnapshotIds=[snapshot_id])) == "InvalidSnapshot.NotFound"
    a.delete_snapshot(SnapshotId=snapshot_id)
    launch(d, image_id)


def legacy_image_on(server, owner, snapshot_id, name):
    """An image of `owner` on another account's snapshot, as an earlier version let RegisterImage write."""
    store = open_store(server.db_url, run_migrations=False)
    try:
        with store.transaction() as conn:
            snapshot = snapshot_store.get(conn, snapshot_id)
            row = _image(new_id("ami"), owner.account_id, name=name)
            image_store.insert_image(conn, row, [dict(
                device_name="/dev/xvda", virtual_name=None, no_device=False, snapshot_id=snapshot_id,
                volume_size=snapshot["volume_size"], volume_type="gp2", iops=None, throughput=None, encrypted=False,
                kms_key_id=None, delete_on_termination=True)], [])
            settings_store.add_to_counter(conn, owner.account_id, "us-east-1", "images", 1)
    finally:
        store.dispose()
    return row["image_id"]


def test_withdrawn_access_is_gone_for_images_already_on_the_snapshot(server, alice, bob, carol):
    """C's image on A's snapshot (left by an earlier version): once A withdraws C's permission, C
    can't use it and can't hand it on (D, never granted anything, can't launch or copy it)."""
    a, c, d = server.client(alice), server.client(bob), server.client(carol)
    snapshot_id = snapshot_of_new_volume(a)
    share_snapshot(a, snapshot_id, {"Group": "all"})
    image_id = legacy_image_on(server, bob, snapshot_id, "legacy-on-a")
    unblock(server, bob)
    c.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    launch(d, image_id)  # while A's snapshot is public, as AWS would allow
    withdraw_snapshot(a, snapshot_id, {"Group": "all"})
    for ec2 in (c, d):
        assert error_code(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.Unavailable"
        assert error_code(lambda: ec2.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="copy")) \
            == "InvalidAMIID.Unavailable"
    # Another account's image never blocks the owner's delete (it did: InvalidSnapshot.InUse naming C's image).
    a.delete_snapshot(SnapshotId=snapshot_id)
    assert error_code(lambda: d.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.Unavailable"
    # The owner's own images still hold its snapshots.
    own = snapshot_of_new_volume(a)
    held = register(a, "holds-own", own)
    assert error_code(lambda: a.delete_snapshot(SnapshotId=own)) == "InvalidSnapshot.InUse"
    a.deregister_image(ImageId=held)
    a.delete_snapshot(SnapshotId=own)


def test_marketplace_snapshot_is_not_readable_by_others(server, alice):
    ec2 = server.client(alice)
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"][0]
    snapshot_id = market["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    for call in (lambda: ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot_id),
                 lambda: ec2.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1"),
                 lambda: ec2.describe_snapshots(SnapshotIds=[snapshot_id]),
                 lambda: register_on(ec2, "market-copy", snapshot_id)):
        assert error_code(call) == "InvalidSnapshot.NotFound"
    assert snapshot_id not in {s["SnapshotId"] for s in ec2.describe_snapshots(RestorableByUserIds=["all"])["Snapshots"]}
    assert error_code(lambda: ec2.copy_image(SourceImageId=market["ImageId"], SourceRegion="us-east-1", Name="market")) \
        == "InvalidRequest"
    assert ec2.describe_volumes()["Volumes"] == [] and ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    # Buyers launch it as before; Amazon's base snapshots stay readable (their images can be copied).
    launch(ec2, market["ImageId"])
    amazon = ec2.describe_images(Owners=["amazon"])["Images"][0]
    ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=amazon["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"])


def test_databases_seeded_before_close_the_marketplace_snapshot(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    srv = Server(db_url=url, port=free_port(), env=server_env(tmp_path), log_path=tmp_path / "server.log").start()
    try:
        srv.stop()
        store = open_store(url, run_migrations=False)
        try:  # as the first catalog left it: every catalog snapshot public
            with store.transaction() as conn:
                settings_store.put_meta(conn, "catalog_version", "1")
                market = image_store.select_branches(conn, "us-east-1", [(("owner_public", MARKETPLACE), [])], [])[0]
                snapshot_id = image_store.block_devices(conn, [market["image_id"]])[market["image_id"]][0]["snapshot_id"]
                snapshot_store.update_snapshot(conn, snapshot_id, is_public=True)
        finally:
            store.dispose()
        srv.start()
        account = srv.new_account()
        ec2 = srv.client(account)
        assert error_code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot_id)) \
            == "InvalidSnapshot.NotFound"
    finally:
        srv.stop()
        cleanup()


def test_marketplace_product_codes_follow_the_data(server, alice, bob):
    """Launching the Marketplace image and snapshotting its volume doesn't yield a code-free image:
    volumes, snapshots, copies and images registered on them carry the product code."""
    ec2 = server.client(alice)
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"][0]
    code = market["ProductCodes"]
    instance_id = launch(ec2, market["ImageId"])
    volume_id = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"][0]["VolumeId"]
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig={"Delay": 0.1})
    assert ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="productCodes")["ProductCodes"] == code
    assert error_code(lambda: share_snapshot(ec2, snapshot_id, {"Group": "all"})) == "OperationNotPermitted"
    image_id = register(ec2, "from-market-volume", snapshot_id)
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["ProductCodes"] == code
    unblock(server, alice)
    assert error_code(lambda: ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})) == "OperationNotPermitted"
    # Restored volumes and copies keep the code, and so does what is made from them.
    copy_id = ec2.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1")["SnapshotId"]
    assert ec2.describe_snapshot_attribute(SnapshotId=copy_id, Attribute="productCodes")["ProductCodes"] == code
    restored = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot_id)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[restored], WaiterConfig={"Delay": 0.1})
    again = ec2.create_snapshot(VolumeId=restored)["SnapshotId"]
    assert ec2.describe_snapshot_attribute(SnapshotId=again, Attribute="productCodes")["ProductCodes"] == code
    # Shared with another account, the code stays with what that account makes of it.
    share_snapshot(ec2, snapshot_id, {"UserId": bob.account_id})
    other = server.client(bob)
    theirs = other.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1")["SnapshotId"]
    other.get_waiter("snapshot_completed").wait(SnapshotIds=[theirs], WaiterConfig={"Delay": 0.1})
    their_image = register(other, "their-market-copy", theirs)
    assert other.describe_images(ImageIds=[their_image])["Images"][0]["ProductCodes"] == code
    # Ordinary snapshots carry none.
    plain = snapshot_of_new_volume(ec2)
    assert ec2.describe_snapshot_attribute(SnapshotId=plain, Attribute="productCodes")["ProductCodes"] == []
    assert "ProductCodes" not in ec2.describe_images(ImageIds=[register(ec2, "plain", plain)])["Images"][0]
