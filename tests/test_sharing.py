"""Sharing images with accounts and with everyone (seeds 000-003)."""

import pytest

from test_images import error_code, launch, register, snapshot_of_new_volume


def visible_ids(ec2, **kwargs):
    return {i["ImageId"] for i in ec2.describe_images(**kwargs)["Images"]}


def test_share_with_account_visibility_and_launch(server, alice, bob, carol):
    owner, recipient, stranger = server.client(alice), server.client(bob), server.client(carol)
    image_id = register(owner, "shared-golden", TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "secret", "Value": "x"}]}])
    assert error_code(lambda: recipient.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    shared = recipient.describe_images(ImageIds=[image_id])["Images"][0]
    assert shared["OwnerId"] == alice.account_id and "Tags" not in shared and shared["Public"] is False
    assert image_id in visible_ids(recipient, Owners=[alice.account_id])
    assert image_id in visible_ids(recipient, ExecutableUsers=["self"])
    assert image_id in visible_ids(recipient)
    assert image_id not in visible_ids(recipient, Owners=["self"])
    assert image_id in visible_ids(owner, ExecutableUsers=[bob.account_id])
    assert image_id not in visible_ids(owner, ExecutableUsers=["self"])
    # A stranger still sees nothing.
    assert error_code(lambda: stranger.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert image_id not in visible_ids(stranger)
    assert error_code(lambda: stranger.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    # The recipient launches; the instance is the recipient's; it can image its own instance.
    instance_id = launch(recipient, image_id)
    reservation = recipient.describe_instances(InstanceIds=[instance_id])["Reservations"][0]
    assert reservation["OwnerId"] == bob.account_id
    assert owner.describe_instances(Filters=[{"Name": "image-id", "Values": [image_id]}])["Reservations"] == []
    derived = recipient.create_image(InstanceId=instance_id, Name="derived")["ImageId"]
    assert recipient.describe_images(ImageIds=[derived])["Images"][0]["OwnerId"] == bob.account_id
    # Tags stay with the owner; a filter on them matches nothing for the recipient.
    assert recipient.describe_images(ImageIds=[image_id], Filters=[{"Name": "tag:secret", "Values": ["x"]}])["Images"] == []
    # Recipients can only launch.
    for call in (
        lambda: recipient.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": carol.account_id}]}),
        lambda: recipient.reset_image_attribute(ImageId=image_id, Attribute="launchPermission"),
        lambda: recipient.describe_image_attribute(ImageId=image_id, Attribute="launchPermission"),
        lambda: recipient.deregister_image(ImageId=image_id),
        lambda: recipient.create_tags(Resources=[image_id], Tags=[{"Key": "mine", "Value": "no"}]),
    ):
        assert error_code(call) == "AuthFailure"
    attr = owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attr["LaunchPermissions"] == [{"UserId": bob.account_id}]
    assert owner.describe_images(ImageIds=[image_id])["Images"][0]["Tags"] == [{"Key": "secret", "Value": "x"}]
    # Removing the grant ends access at once.
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"UserId": bob.account_id}]})
    assert error_code(lambda: recipient.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    state = recipient.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"


def unblock(server, account, region="us-east-1"):
    server.client(account, region=region).disable_image_block_public_access()


def test_make_public_and_private(server, alice, bob):
    owner, other = server.client(alice), server.client(bob)
    unblock(server, alice)
    image_id = register(owner, "public-one")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == [{"Group": "all"}]
    image = other.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["Public"] is True
    assert image_id in visible_ids(other, ExecutableUsers=["all"])
    assert image_id in visible_ids(other, Filters=[{"Name": "is-public", "Values": ["true"]}])
    assert image_id in visible_ids(other)
    assert image_id not in visible_ids(other, ExecutableUsers=["self"])
    launch(other, image_id)
    # The community catalog is Regional.
    assert error_code(lambda: server.client(bob, region="us-west-2").describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"Group": "all"}]})
    assert error_code(lambda: other.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert owner.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is False


def test_modify_is_all_or_nothing(server, alice, bob):
    owner = server.client(alice)
    image_id = register(owner, "atomic")
    for bad in ({"UserId": "12345"}, {"UserId": "abcdefghijkl"}, {"Group": "everyone"}):
        code = error_code(lambda: owner.modify_image_attribute(
            ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}, bad]}))
        assert code == "InvalidAMIAttributeItemValue"
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    # Idempotent add and remove.
    for _ in range(2):
        owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"UserId": "999999999999"}]})
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == [
        {"UserId": bob.account_id}]


def test_legacy_request_form_and_several_entries(server, alice, bob, carol):
    owner = server.client(alice)
    unblock(server, alice)
    image_id = register(owner, "legacy")
    owner.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", OperationType="add",
                                 UserIds=[bob.account_id, carol.account_id], UserGroups=["all"])
    entries = owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    assert {"Group": "all"} in entries and {"UserId": bob.account_id} in entries and {"UserId": carol.account_id} in entries
    owner.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", OperationType="remove",
                                 UserIds=[carol.account_id], UserGroups=["all"])
    entries = owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    assert entries == [{"UserId": bob.account_id}]
    assert error_code(lambda: owner.modify_image_attribute(ImageId=image_id, Attribute="launchPermission",
                                                           OperationType="add", UserIds=["1"])) == "InvalidAMIAttributeItemValue"


def test_reset_and_cancel(server, alice, bob, carol):
    owner = server.client(alice)
    unblock(server, alice)
    image_id = register(owner, "reset-me")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [
        {"UserId": bob.account_id}, {"UserId": carol.account_id}, {"Group": "all"}]})
    server.client(carol).cancel_image_launch_permission(ImageId=image_id)
    entries = owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    assert {"UserId": carol.account_id} not in entries and {"UserId": bob.account_id} in entries
    owner.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    assert error_code(lambda: server.client(bob).describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    launch(owner, image_id)  # the owner always keeps launch rights


def test_description_and_other_attributes(server, alice):
    owner = server.client(alice)
    image_id = register(owner, "attrs", Description="before", BootMode="uefi")
    owner.modify_image_attribute(ImageId=image_id, Description={"Value": "after"})
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="description")["Description"] == {"Value": "after"}
    owner.modify_image_attribute(ImageId=image_id, Attribute="description", Value="legacy")
    assert owner.describe_images(ImageIds=[image_id])["Images"][0]["Description"] == "legacy"
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="bootMode")["BootMode"] == {"Value": "uefi"}
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="deregistrationProtection")[
        "DeregistrationProtection"] == {"Value": "disabled"}
    bdm = owner.describe_image_attribute(ImageId=image_id, Attribute="blockDeviceMapping")["BlockDeviceMappings"]
    assert bdm[0]["DeviceName"] == "/dev/xvda"
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="productCodes")["ProductCodes"] == []
    assert "Value" not in owner.describe_image_attribute(ImageId=image_id, Attribute="lastLaunchedTime")["LastLaunchedTime"]
    launch(owner, image_id)
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="lastLaunchedTime")["LastLaunchedTime"]["Value"]
    assert error_code(lambda: owner.describe_image_attribute(ImageId=image_id, Attribute="colour")) == "InvalidParameterValue"


def test_deregistration_ends_recipient_access(server, alice, bob):
    owner, recipient = server.client(alice), server.client(bob)
    image_id = register(owner, "short-lived")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    instance_id = launch(recipient, image_id)
    owner.deregister_image(ImageId=image_id)
    assert error_code(lambda: recipient.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert image_id not in visible_ids(recipient, ExecutableUsers=["self"])
    state = recipient.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"


def test_grants_are_regional_and_copies_unshared(server, alice, bob):
    east, west = server.client(alice), server.client(alice, region="us-west-2")
    image_id = register(east, "regional-share")
    east.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    copy_id = west.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="regional-share")["ImageId"]
    assert west.describe_image_attribute(ImageId=copy_id, Attribute="launchPermission")["LaunchPermissions"] == []
    bob_west = server.client(bob, region="us-west-2")
    assert error_code(lambda: bob_west.describe_images(ImageIds=[copy_id])) == "InvalidAMIID.NotFound"
    assert bob_west.describe_images(ExecutableUsers=["self"])["Images"] == []


def test_cross_account_copy_needs_snapshot_permission(server, alice, bob):
    owner, recipient = server.client(alice), server.client(bob)
    snapshot_id = snapshot_of_new_volume(owner)
    image_id = register(owner, "copy-me", snapshot_id)
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    with pytest.raises(Exception) as exc:
        recipient.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="my-copy")
    assert "You do not have permission to access the storage of this ami" in str(exc.value)
    assert recipient.describe_images(Owners=["self"])["Images"] == []
    owner.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                    OperationType="add", UserIds=[bob.account_id])
    attr = owner.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert attr["CreateVolumePermissions"] == [{"UserId": bob.account_id}]
    restorable = recipient.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]
    assert [s["SnapshotId"] for s in restorable] == [snapshot_id]
    copy_id = server.client(bob, region="eu-west-1").copy_image(
        SourceImageId=image_id, SourceRegion="us-east-1", Name="my-copy")["ImageId"]
    copy = server.client(bob, region="eu-west-1").describe_images(ImageIds=[copy_id])["Images"][0]
    assert copy["OwnerId"] == bob.account_id
    copied_snapshot = copy["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    snap = server.client(bob, region="eu-west-1").describe_snapshots(SnapshotIds=[copied_snapshot])["Snapshots"][0]
    assert snap["OwnerId"] == bob.account_id
    owner.reset_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert recipient.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"] == []
    assert error_code(lambda: recipient.modify_snapshot_attribute(
        SnapshotId=snapshot_id, Attribute="createVolumePermission", OperationType="add",
        UserIds=[bob.account_id])) == "InvalidSnapshot.NotFound"


def test_public_snapshot_and_encrypted_refusal(server, alice, bob):
    owner = server.client(alice)
    snapshot_id = snapshot_of_new_volume(owner)
    owner.modify_snapshot_attribute(SnapshotId=snapshot_id, CreateVolumePermission={"Add": [{"Group": "all"}]})
    assert snapshot_id in {s["SnapshotId"] for s in server.client(bob).describe_snapshots(RestorableByUserIds=["all"])["Snapshots"]}
    encrypted = snapshot_of_new_volume(owner, Encrypted=True)
    assert error_code(lambda: owner.modify_snapshot_attribute(
        SnapshotId=encrypted, CreateVolumePermission={"Add": [{"Group": "all"}]})) == "OperationNotPermitted"
    assert error_code(lambda: owner.modify_snapshot_attribute(
        SnapshotId=encrypted, CreateVolumePermission={"Add": [{"UserId": bob.account_id}]})) == "OperationNotPermitted"
    assert owner.describe_snapshot_attribute(SnapshotId=encrypted, Attribute="createVolumePermission")["CreateVolumePermissions"] == []


def test_quotas(server, alice, bob):

    owner = server.client(alice)
    unblock(server, alice)
    snapshot_id = snapshot_of_new_volume(owner)
    public = [register(owner, f"pub-{i}", snapshot_id) for i in range(6)]
    for image_id in public[:5]:
        owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    with pytest.raises(Exception) as exc:
        owner.modify_image_attribute(ImageId=public[5], LaunchPermission={"Add": [{"Group": "all"}]})
    assert "ResourceLimitExceeded" in str(exc.value) and "public AMIs" in str(exc.value)
    assert owner.describe_images(ImageIds=[public[5]])["Images"][0]["Public"] is False
    owner.deregister_image(ImageId=public[0])
    owner.modify_image_attribute(ImageId=public[5], LaunchPermission={"Add": [{"Group": "all"}]})
    # 1,000 accounts per image; one call past it changes nothing.
    shared = public[1]
    batch = [{"UserId": f"{100000000000 + i}"} for i in range(1000)]
    owner.modify_image_attribute(ImageId=shared, LaunchPermission={"Add": batch})
    with pytest.raises(Exception) as exc:
        owner.modify_image_attribute(ImageId=shared, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    assert "ResourceLimitExceeded" in str(exc.value)
    entries = owner.describe_image_attribute(ImageId=shared, Attribute="launchPermission")["LaunchPermissions"]
    assert len(entries) == 1001 and {"UserId": bob.account_id} not in entries
    owner.modify_image_attribute(ImageId=shared, LaunchPermission={"Add": [{"UserId": "100000000000"}]})


def test_seed_cli_commands_verbatim(server, alice, bob):
    """The documents' aws ec2 commands, as written (ids substituted)."""
    image_id = register(server.client(alice), "seed-cli")
    aws = lambda *args, **kw: server.aws(alice, *args, **kw)  # noqa: E731
    _, state, _ = aws("ec2", "disable-image-block-public-access", "--region", "us-east-1")
    assert state == {"ImageBlockPublicAccessState": "unblocked"}
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", "Add=[{Group=all}]")
    _, attr, _ = aws("ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr == {"ImageId": image_id, "LaunchPermissions": [{"Group": "all"}]}
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", "Remove=[{Group=all}]")
    _, attr, _ = aws("ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr["LaunchPermissions"] == []
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", '{"Add":[{"Group":"all"}]}')
    _, attr, _ = aws("ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr["LaunchPermissions"] == [{"Group": "all"}]
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", '{"Remove":[{"Group":"all"}]}')
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", f"Add=[{{UserId={bob.account_id}}}]")
    _, attr, _ = aws("ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr["LaunchPermissions"] == [{"UserId": bob.account_id}]
    _, seen, _ = server.aws(bob, "ec2", "describe-images", "--executable-users", "self")
    assert [i["ImageId"] for i in seen["Images"]] == [image_id]
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", f"Remove=[{{UserId={bob.account_id}}}]")
    _, attr, _ = aws("ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr["LaunchPermissions"] == []
    aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", f"Add=[{{UserId={bob.account_id}}},{{Group=all}}]")
    aws("ec2", "reset-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    _, attr, _ = aws("ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr["LaunchPermissions"] == []
    code, _, err = aws("ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission",
                       "Add=[{UserId=account-id}]", check=False)
    assert code != 0 and "InvalidAMIAttributeItemValue" in err


def test_image_quota_is_configurable(backend, tmp_path):
    from support import Server, database_url, free_port, server_env

    url, cleanup = database_url(backend, tmp_path)
    env = server_env(tmp_path)
    env["AMISHARE_MAX_IMAGES"] = "2"
    srv = Server(db_url=url, port=free_port(), env=env, log_path=tmp_path / "server.log").start()
    try:
        account = srv.new_account()
        ec2 = srv.client(account)
        snapshot_id = snapshot_of_new_volume(ec2)
        register(ec2, "quota-1", snapshot_id)
        register(ec2, "quota-2", snapshot_id)
        with pytest.raises(Exception) as exc:
            register(ec2, "quota-3", snapshot_id)
        assert "ResourceLimitExceeded" in str(exc.value) and "AMIs per Region" in str(exc.value)
        assert len(ec2.describe_images(Owners=["self"])["Images"]) == 2
        # Another Region has its own quota; deregistering frees one.
        register(srv.client(account, region="us-west-2"), "quota-3")
        ec2.deregister_image(ImageId=ec2.describe_images(Owners=["self"])["Images"][0]["ImageId"])
        register(ec2, "quota-3", snapshot_id)
    finally:
        srv.stop()
        cleanup()
