"""Recycle Bin: retention rules over the REST-JSON rbin API, and deregistered AMIs kept, listed,
restored intact and gone after their retention period."""

import json

import pytest
from botocore.exceptions import ClientError

from support import send_signed
from test_images import error_code, register


def rbin(server, account, region="us-east-1"):
    return server.client(account, "rbin", region=region)


def in_bin(ec2, **kwargs):
    return {i["ImageId"]: i for i in ec2.list_images_in_recycle_bin(**kwargs)["Images"]}


def test_rule_crud(server, alice, bob):
    client = rbin(server, alice)
    made = client.create_rule(ResourceType="EC2_IMAGE", Description="keep amis",
                              RetentionPeriod={"RetentionPeriodValue": 7, "RetentionPeriodUnit": "DAYS"},
                              ResourceTags=[{"ResourceTagKey": "keep", "ResourceTagValue": "yes"}],
                              Tags=[{"Key": "team", "Value": "build"}])
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    rule_id = made["Identifier"]
    assert len(rule_id) == 11 and made["Status"] == "available" and made["LockState"] == "unlocked"
    assert made["RuleArn"] == f"arn:aws:rbin:us-east-1:{alice.account_id}:rule/{rule_id}"
    assert made["Tags"] == [{"Key": "team", "Value": "build"}]
    got = client.get_rule(Identifier=rule_id)
    assert got["ResourceTags"] == [{"ResourceTagKey": "keep", "ResourceTagValue": "yes"}]
    assert got["RetentionPeriod"] == {"RetentionPeriodValue": 7, "RetentionPeriodUnit": "DAYS"}
    listed = client.list_rules(ResourceType="EC2_IMAGE")["Rules"]
    assert [r["Identifier"] for r in listed] == [rule_id]
    updated = client.update_rule(Identifier=rule_id, RetentionPeriod={"RetentionPeriodValue": 30, "RetentionPeriodUnit": "DAYS"},
                                 Description="longer")
    assert updated["RetentionPeriod"]["RetentionPeriodValue"] == 30 and updated["Description"] == "longer"
    # Rules are the account's and the Region's.
    assert rbin(server, bob).list_rules(ResourceType="EC2_IMAGE")["Rules"] == []
    assert rbin(server, alice, "eu-west-1").list_rules(ResourceType="EC2_IMAGE")["Rules"] == []
    with pytest.raises(ClientError) as exc:
        rbin(server, bob).get_rule(Identifier=rule_id)
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert client.delete_rule(Identifier=rule_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_code(lambda: client.get_rule(Identifier=rule_id)) == "ResourceNotFoundException"
    assert error_code(lambda: client.delete_rule(Identifier=rule_id)) == "ResourceNotFoundException"


def test_bad_rules_and_locks(server, alice):
    client = rbin(server, alice)
    days = {"RetentionPeriodValue": 1, "RetentionPeriodUnit": "DAYS"}
    for kwargs in ({"RetentionPeriod": {"RetentionPeriodValue": 3651, "RetentionPeriodUnit": "DAYS"}},
                   {"RetentionPeriod": days, "ResourceTags": [{"ResourceTagKey": "a"}],
                    "ExcludeResourceTags": [{"ResourceTagKey": "b"}]},
                   {"RetentionPeriod": days, "ResourceTags": [{"ResourceTagKey": "a"}],
                    "LockConfiguration": {"UnlockDelay": {"UnlockDelayValue": 7, "UnlockDelayUnit": "DAYS"}}},
                   {"RetentionPeriod": days,
                    "LockConfiguration": {"UnlockDelay": {"UnlockDelayValue": 31, "UnlockDelayUnit": "DAYS"}}}):
        assert error_code(lambda: client.create_rule(ResourceType="EC2_IMAGE", **kwargs)) == "ValidationException", kwargs
    assert client.list_rules(ResourceType="EC2_IMAGE")["Rules"] == []
    locked = client.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=days,
                                LockConfiguration={"UnlockDelay": {"UnlockDelayValue": 7, "UnlockDelayUnit": "DAYS"}})
    assert locked["LockState"] == "locked"
    rule_id = locked["Identifier"]
    assert error_code(lambda: client.delete_rule(Identifier=rule_id)) == "ConflictException"
    assert error_code(lambda: client.update_rule(Identifier=rule_id, Description="x")) == "ConflictException"
    assert [r["Identifier"] for r in client.list_rules(ResourceType="EC2_IMAGE", LockState="locked")["Rules"]] == [rule_id]
    unlocking = client.unlock_rule(Identifier=rule_id)
    assert unlocking["LockState"] == "pending_unlock" and "LockEndTime" in unlocking
    assert error_code(lambda: client.delete_rule(Identifier=rule_id)) == "ConflictException"
    assert client.get_rule(Identifier=rule_id)["Description"] == ""


def test_pagination_of_rules(server, alice):
    client = rbin(server, alice)
    made = {client.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": d, "RetentionPeriodUnit": "DAYS"},
                               ResourceTags=[{"ResourceTagKey": f"k{d}"}])["Identifier"] for d in range(1, 6)}
    seen, token = [], None
    while True:
        page = client.list_rules(ResourceType="EC2_IMAGE", MaxResults=2, **({"NextToken": token} if token else {}))
        seen += [r["Identifier"] for r in page["Rules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    assert error_code(lambda: client.list_rules(ResourceType="EC2_IMAGE", NextToken="AAAA")) == "ValidationException"


def test_raw_rest_json_errors(server, alice):
    # The request's method and path name the operation; a missing member is a ValidationException.
    status, body = send_signed(server, alice, "rbin", json.dumps({"ResourceType": "EC2_IMAGE"}), "ListRules")
    assert status == 200 and json.loads(body)["Rules"] == []
    status, body = send_signed(server, alice, "rbin", "{}", "ListRules")
    assert status == 400 and json.loads(body)["__type"] == "ValidationException"
    status, body = send_signed(server, alice, "rbin", "[]", "ListRules")
    assert status == 400 and json.loads(body)["__type"] == "SerializationException"


def test_deregistered_image_goes_to_the_bin_and_is_restored_intact(server, alice, bob):
    ec2, theirs = server.client(alice), server.client(bob)
    rbin(server, alice).create_rule(ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": 3, "RetentionPeriodUnit": "DAYS"},
                                    ResourceTags=[{"ResourceTagKey": "keep"}])
    kept = register(ec2, "kept", TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "keep", "Value": "1"}]}])
    gone = register(ec2, "gone")
    ec2.modify_image_attribute(ImageId=kept, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    before = ec2.describe_images(ImageIds=[kept])["Images"][0]
    ec2.deregister_image(ImageId=kept)
    ec2.deregister_image(ImageId=gone)
    assert error_code(lambda: ec2.describe_images(ImageIds=[kept])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: theirs.run_instances(ImageId=kept, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    listed = in_bin(ec2)
    assert set(listed) == {kept}
    entry = listed[kept]
    assert entry["Name"] == "kept"
    assert (entry["RecycleBinExitTime"] - entry["RecycleBinEnterTime"]).total_seconds() == 3 * 86400
    assert in_bin(theirs) == {}
    assert error_code(lambda: theirs.restore_image_from_recycle_bin(ImageId=kept)) == "InvalidAMIID.NotFound"
    assert error_code(lambda: ec2.restore_image_from_recycle_bin(ImageId=gone)) == "InvalidAMIID.NotFound"
    assert ec2.restore_image_from_recycle_bin(ImageId=kept)["Return"] is True
    assert in_bin(ec2) == {}
    after = ec2.describe_images(ImageIds=[kept])["Images"][0]
    assert after == {**before, "State": after["State"]} and after["State"] == "available"
    assert ec2.describe_image_attribute(ImageId=kept, Attribute="launchPermission")["LaunchPermissions"] == [
        {"UserId": bob.account_id}]
    theirs.run_instances(ImageId=kept, MinCount=1, MaxCount=1)
    assert error_code(lambda: ec2.restore_image_from_recycle_bin(ImageId=kept)) == "InvalidAMIID.NotFound"


def test_region_rule_with_exclusions_and_retention_expiry(server, alice):
    ec2 = server.client(alice)
    rbin(server, alice).create_rule(ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": 1, "RetentionPeriodUnit": "DAYS"},
                                    ExcludeResourceTags=[{"ResourceTagKey": "scratch", "ResourceTagValue": "yes"}])
    kept = register(ec2, "region-kept")
    scratch = register(ec2, "scratch", TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "scratch", "Value": "yes"}]}])
    ec2.deregister_image(ImageId=kept)
    ec2.deregister_image(ImageId=scratch)
    assert set(in_bin(ec2)) == {kept}
    assert set(in_bin(ec2, ImageIds=[kept, scratch])) == {kept}
    assert error_code(lambda: ec2.list_images_in_recycle_bin(ImageIds=["bad"])) == "InvalidAMIID.Malformed"


def test_gone_after_the_retention_period(server, alice):
    from sqlalchemy import text

    from amishare.store.db import make_engine

    ec2 = server.client(alice)
    rbin(server, alice).create_rule(ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": 1, "RetentionPeriodUnit": "DAYS"},
                                    ResourceTags=[{"ResourceTagKey": "expiring"}])
    image_id = register(ec2, "expiring", TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "expiring", "Value": ""}]}])
    ec2.deregister_image(ImageId=image_id)
    assert set(in_bin(ec2)) == {image_id}
    # A day later (the stored exit time moved into the past): gone, on every path.
    engine = make_engine(server.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE recycled_images SET exit_at = entered_at - 1 WHERE image_id = :i"), {"i": image_id})
    finally:
        engine.dispose()
    assert in_bin(ec2) == {}
    assert in_bin(ec2, ImageIds=[image_id]) == {}
    assert error_code(lambda: ec2.restore_image_from_recycle_bin(ImageId=image_id)) == "InvalidAMIID.NotFound"


def test_restoring_counts_against_the_ami_quota(backend, tmp_path):
    from support import Server, database_url, free_port, server_env

    url, cleanup = database_url(backend, tmp_path)
    env = server_env(tmp_path)
    env["AMISHARE_MAX_IMAGES"] = "1"
    srv = Server(db_url=url, port=free_port(), env=env, log_path=tmp_path / "server.log").start()
    try:
        account = srv.new_account()
        ec2 = srv.client(account)
        srv.client(account, "rbin").create_rule(
            ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": 1, "RetentionPeriodUnit": "DAYS"})
        first = register(ec2, "first")
        ec2.deregister_image(ImageId=first)
        second = register(ec2, "second")
        assert error_code(lambda: ec2.restore_image_from_recycle_bin(ImageId=first)) == "ResourceLimitExceeded"
        assert set(in_bin(ec2)) == {first}
        ec2.deregister_image(ImageId=second)
        ec2.restore_image_from_recycle_bin(ImageId=first)
        assert set(in_bin(ec2)) == {second}
        assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [first]
    finally:
        srv.stop()
        cleanup()
