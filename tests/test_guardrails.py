"""Guardrails on sharing (seeds 000-002, 004)."""

import datetime as dt
import time


from support import Server, database_url, free_port, server_env, wait_until
from test_images import error_code, launch, register, snapshot_of_new_volume
from test_sharing import unblock, visible_ids


def share_public(ec2, image_id):
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})


def test_block_public_access_seed_commands(server, alice, bob):
    aws = lambda *args, **kw: server.aws(alice, *args, **kw)  # noqa: E731
    _, state, _ = aws("ec2", "get-image-block-public-access-state", "--region", "us-east-1")
    assert state == {"ImageBlockPublicAccessState": "block-new-sharing", "ManagedBy": "account"}
    ec2 = server.client(alice)
    image_id = register(ec2, "bpa")
    assert error_code(lambda: share_public(ec2, image_id)) == "OperationNotPermitted"
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is False
    assert error_code(lambda: server.client(bob).describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    _, state, _ = aws("ec2", "disable-image-block-public-access", "--region", "us-east-1")
    assert state == {"ImageBlockPublicAccessState": "unblocked"}
    _, state, _ = aws("ec2", "get-image-block-public-access-state", "--region", "us-east-1")
    assert state["ImageBlockPublicAccessState"] == "unblocked"
    share_public(ec2, image_id)
    _, state, _ = aws("ec2", "enable-image-block-public-access", "--region", "us-east-1",
                      "--image-block-public-access-state", "block-new-sharing")
    assert state == {"ImageBlockPublicAccessState": "block-new-sharing"}
    # Already public images stay public; making them private still works; new public sharing is blocked.
    assert server.client(bob).describe_images(ImageIds=[image_id])["Images"][0]["Public"] is True
    other = register(ec2, "bpa-2")
    assert error_code(lambda: share_public(ec2, other)) == "OperationNotPermitted"
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"Group": "all"}]})
    assert error_code(lambda: share_public(ec2, image_id)) == "OperationNotPermitted"
    # Account sharing is unaffected.
    ec2.modify_image_attribute(ImageId=other, LaunchPermission={"Add": [{"UserId": bob.account_id}]})


def test_block_public_access_is_per_region(server, alice):
    east, west = server.client(alice), server.client(alice, region="us-west-2")
    west.disable_image_block_public_access()
    assert east.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing"
    assert west.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
    image_id = register(west, "west-public")
    share_public(west, image_id)
    east_image = register(east, "east-private")
    assert error_code(lambda: share_public(east, east_image)) == "OperationNotPermitted"
    assert error_code(lambda: east.enable_image_block_public_access(ImageBlockPublicAccessState="blocked")) == "InvalidParameterValue"


def test_block_public_access_propagation_delay(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    env = server_env(tmp_path)
    env["AMISHARE_BLOCK_PUBLIC_ACCESS_DELAY"] = "1.5"
    env["AMISHARE_BLOCK_PUBLIC_ACCESS_DEFAULT"] = "unblocked"
    srv = Server(db_url=url, port=free_port(), env=env, log_path=tmp_path / "server.log").start()
    try:
        account = srv.new_account()
        ec2 = srv.client(account)
        assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
        answer = ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
        assert answer["ImageBlockPublicAccessState"] == "block-new-sharing"
        assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
        wait_until(lambda: ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing",
                   timeout=5)
    finally:
        srv.stop()
        cleanup()


def test_images_that_cannot_be_public(server, alice, bob):
    unblock(server, alice)
    ec2 = server.client(alice)
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"][0]
    instance_id = launch(ec2, market["ImageId"])
    coded = ec2.create_image(InstanceId=instance_id, Name="with-product-code")["ImageId"]
    assert error_code(lambda: share_public(ec2, coded)) == "OperationNotPermitted"
    ec2.modify_image_attribute(ImageId=coded, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    assert ec2.describe_image_attribute(ImageId=coded, Attribute="launchPermission")["LaunchPermissions"] == [
        {"UserId": bob.account_id}]
    cmk = server.client(alice, "kms").create_key()["KeyMetadata"]["Arn"]
    encrypted = register(ec2, "encrypted-cmk", snapshot_of_new_volume(ec2, Encrypted=True, KmsKeyId=cmk))
    assert error_code(lambda: share_public(ec2, encrypted)) == "OperationNotPermitted"
    assert ec2.describe_images(ImageIds=[encrypted])["Images"][0]["Public"] is False
    ec2.modify_image_attribute(ImageId=encrypted, LaunchPermission={"Add": [{"UserId": bob.account_id}]})


def test_default_key_encrypted_images_cannot_be_shared(server, alice, bob):
    ec2 = server.client(alice)
    image_id = register(ec2, "default-key", snapshot_of_new_volume(ec2, Encrypted=True))
    for entry in ({"UserId": bob.account_id}, {"OrganizationArn": "arn:aws:organizations::123456789012:organization/o-abcdefghij"},
                  {"OrganizationalUnitArn": "arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-abcd-abcdefgh"}):
        assert error_code(lambda: ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [entry]})) == "OperationNotPermitted"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []


def test_deprecation(server, alice, bob):
    unblock(server, alice)
    owner, other = server.client(alice), server.client(bob)
    image_id = register(owner, "deprecating")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    now = dt.datetime.now(dt.timezone.utc)
    assert error_code(lambda: owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=now - dt.timedelta(days=1))) == "InvalidParameterValue"
    assert error_code(lambda: owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + dt.timedelta(days=3700))) == "InvalidParameterValue"
    assert error_code(lambda: other.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + dt.timedelta(days=1))) == "AuthFailure"
    target = now + dt.timedelta(days=30, seconds=40)
    owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=target)
    shown = owner.describe_images(ImageIds=[image_id])["Images"][0]["DeprecationTime"]
    shown_at = dt.datetime.fromisoformat(shown.replace("Z", "+00:00"))
    assert shown_at.second == 0 and abs((shown_at - target).total_seconds()) <= 30
    owner.disable_image_deprecation(ImageId=image_id)
    assert "DeprecationTime" not in owner.describe_images(ImageIds=[image_id])["Images"][0]
    # Making an image public caps its deprecation at two years after creation.
    owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + dt.timedelta(days=1500))
    share_public(owner, image_id)
    image = owner.describe_images(ImageIds=[image_id])["Images"][0]
    created = dt.datetime.fromisoformat(image["CreationDate"].replace("Z", "+00:00"))
    deprecation = dt.datetime.fromisoformat(image["DeprecationTime"].replace("Z", "+00:00"))
    assert abs((deprecation - created).total_seconds() - 2 * 365 * 86400) < 2
    assert error_code(lambda: owner.disable_image_deprecation(ImageId=image_id)) == "OperationNotPermitted"
    assert error_code(lambda: owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + dt.timedelta(days=900))) == "InvalidParameterValue"
    owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + dt.timedelta(days=10))
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"Group": "all"}]})
    owner.disable_image_deprecation(ImageId=image_id)


def test_deprecated_images_are_hidden_from_others_but_launchable(server, alice, bob):
    owner, other = server.client(alice), server.client(bob)
    image_id = register(owner, "soon-deprecated")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    # DeprecateAt is rounded to the minute and can't be in the past: use the next minute boundary.
    now = time.time()
    boundary = (int(now) // 60 + 1) * 60
    if boundary - now < 3:
        boundary += 60
    owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=dt.datetime.fromtimestamp(boundary, dt.timezone.utc))
    assert image_id in visible_ids(other, ExecutableUsers=["self"])
    time.sleep(max(0.0, boundary - time.time()) + 0.3)
    assert image_id not in visible_ids(other, ExecutableUsers=["self"])
    assert image_id not in visible_ids(other)
    assert image_id in visible_ids(other, ExecutableUsers=["self"], IncludeDeprecated=True)
    assert other.describe_images(ImageIds=[image_id])["Images"][0]["ImageId"] == image_id
    assert image_id in visible_ids(owner, Owners=["self"])
    launch(other, image_id)


def test_disable_and_enable_image(server, alice, bob):
    unblock(server, alice)
    owner, other = server.client(alice), server.client(bob)
    image_id = register(owner, "disable-me")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}, {"Group": "all"}]})
    assert error_code(lambda: other.disable_image(ImageId=image_id)) == "AuthFailure"
    owner.disable_image(ImageId=image_id)
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    assert image_id not in visible_ids(owner, Owners=["self"])
    disabled = owner.describe_images(Owners=["self"], IncludeDisabled=True, Filters=[{"Name": "state", "Values": ["disabled"]}])["Images"]
    assert [i["ImageId"] for i in disabled] == [image_id]
    assert error_code(lambda: other.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: owner.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.Unavailable"
    assert error_code(lambda: owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})) == "OperationNotPermitted"
    owner.enable_image(ImageId=image_id)
    assert owner.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"
    launch(owner, image_id)
    assert error_code(lambda: other.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"


def test_deregistration_protection(server, alice):
    """States are EC2's strings, which clients compare (CLI examples of enable/disable-image-deregistration-protection)."""
    ec2 = server.client(alice)
    image_id = register(ec2, "protected")
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"] == "disabled"
    assert ec2.enable_image_deregistration_protection(ImageId=image_id)["Return"] == "enabled-without-cooldown"
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"] == "enabled-without-cooldown"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="deregistrationProtection")[
        "DeregistrationProtection"] == {"Value": "enabled-without-cooldown"}
    assert error_code(lambda: ec2.deregister_image(ImageId=image_id)) == "OperationNotPermitted"
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="deregistrationProtection")[
        "DeregistrationProtection"] == {"Value": "disabled"}
    cooled = register(ec2, "protected-cooldown")
    _, out, _ = server.aws(alice, "ec2", "enable-image-deregistration-protection", "--image-id", cooled, "--with-cooldown")
    assert out == {"Return": "enabled-with-cooldown"}
    assert ec2.describe_images(ImageIds=[cooled])["Images"][0]["DeregistrationProtection"] == "enabled-with-cooldown"
    _, out, _ = server.aws(alice, "ec2", "disable-image-deregistration-protection", "--image-id", cooled)
    state = ec2.describe_images(ImageIds=[cooled])["Images"][0]["DeregistrationProtection"]
    assert state.startswith("disabled-until ") and out == {"Return": state}
    assert error_code(lambda: ec2.deregister_image(ImageId=cooled)) == "OperationNotPermitted"
    _, out, _ = server.aws(alice, "ec2", "enable-image-deregistration-protection", "--image-id", image_id)
    assert out == {"Return": "enabled-without-cooldown"}
    _, out, _ = server.aws(alice, "ec2", "disable-image-deregistration-protection", "--image-id", image_id)
    assert out == {"Return": "disabled"}
    ec2.deregister_image(ImageId=image_id)


def test_usage_report_counts_each_launching_account(server, alice, bob, carol):
    unblock(server, alice)
    owner = server.client(alice)
    image_id = register(owner, "usage")
    share_public(owner, image_id)
    for account, count in ((alice, 1), (bob, 2), (carol, 1)):
        ec2 = server.client(account)
        ec2.run_instances(ImageId=image_id, MinCount=count, MaxCount=count)
    terminated = server.client(carol).run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    server.client(carol).terminate_instances(InstanceIds=[terminated])
    report_id = owner.create_image_usage_report(ImageId=image_id, ResourceTypes=[{"ResourceType": "ec2:Instance"}])["ReportId"]
    reports = owner.describe_image_usage_reports(ImageIds=[image_id])["ImageUsageReports"]
    assert [r["ReportId"] for r in reports] == [report_id] and reports[0]["State"] == "available"
    entries = owner.describe_image_usage_report_entries(ReportIds=[report_id])["ImageUsageReportEntries"]
    assert {e["AccountId"]: e["UsageCount"] for e in entries} == {alice.account_id: 1, bob.account_id: 2, carol.account_id: 1}
    assert error_code(lambda: server.client(bob).create_image_usage_report(
        ImageId=image_id, ResourceTypes=[{"ResourceType": "ec2:Instance"}])) == "AuthFailure"
    assert server.client(bob).describe_image_usage_reports()["ImageUsageReports"] == []
    assert owner.describe_images(ImageIds=[image_id])["Images"][0]["LastLaunchedTime"]
    assert "LastLaunchedTime" not in server.client(bob).describe_images(ImageIds=[image_id])["Images"][0]
