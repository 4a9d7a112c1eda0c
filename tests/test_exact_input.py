"""Identifiers, numbers and timestamps are read exactly: twelve ASCII digits are an account
id, nothing may trail a timestamp, and what is refused is not stored."""

import json
import re
import urllib.request
from urllib.error import HTTPError
from urllib.parse import urlencode

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from test_images import error_code, register, snapshot_of_new_volume

ACCOUNT = "222698666243"
NOT_ACCOUNT_IDS = [
    ACCOUNT + "\n",                      # trailing newline (a `$` anchor lets it through)
    "\u0662" * 12,                        # Arabic-Indic digits
    "\uff12\uff12\uff12\uff16\uff19\uff18\uff16\uff16\uff16\uff12\uff14\uff13",  # full-width digits
    " " + ACCOUNT,
    ACCOUNT[:11] + "\u00b2",              # superscript two: str.isdigit() is true for it
]


def query(server, account, params, region="us-east-1"):
    """A signed EC2 query request built by hand, for values an SDK won't produce. (status, code)."""
    creds = botocore.credentials.Credentials(account.access_key_id, account.secret_access_key)
    body = urlencode({"Action": params.pop("Action"), "Version": "2016-11-15", **params}).encode()
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=body,
                                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(creds, "ec2", region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, None
    except HTTPError as exc:
        text = exc.read().decode()
        match = re.search(r"<Code>([^<]+)</Code>", text)
        return exc.code, match.group(1) if match else text


@pytest.mark.parametrize("bad", NOT_ACCOUNT_IDS)
def test_account_ids_are_twelve_ascii_digits(server, alice, bad):
    ec2 = server.client(alice)
    image_id = register(ec2, "exact-ids")
    snapshot_id = snapshot_of_new_volume(ec2)
    assert error_code(lambda: ec2.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"UserId": bad}]})) == "InvalidAMIAttributeItemValue"
    assert error_code(lambda: ec2.modify_image_attribute(
        ImageId=image_id, Attribute="launchPermission", OperationType="add", UserIds=[bad])) == "InvalidAMIAttributeItemValue"
    assert error_code(lambda: ec2.modify_snapshot_attribute(
        SnapshotId=snapshot_id, CreateVolumePermission={"Add": [{"UserId": bad}]})) == "InvalidParameterValue"
    assert error_code(lambda: ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [
        {"OrganizationArn": f"arn:aws:organizations::{bad}:organization/o-abcdefghij"}]})) == "InvalidParameter"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    assert ec2.describe_snapshot_attribute(
        SnapshotId=snapshot_id, Attribute="createVolumePermission")["CreateVolumePermissions"] == []
    for call in (lambda: ec2.describe_images(Owners=[bad]), lambda: ec2.describe_images(ExecutableUsers=[bad]),
                 lambda: ec2.describe_snapshots(RestorableByUserIds=[bad])):
        assert error_code(call) == "InvalidUserID.Malformed"
    assert error_code(lambda: ec2.create_image_usage_report(
        ImageId=image_id, ResourceTypes=[{"ResourceType": "ec2:Instance"}], AccountIds=[bad])) == "InvalidParameterValue"
    kms = server.client(alice, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert error_code(lambda: kms.create_grant(KeyId=key_id, GranteePrincipal=bad, Operations=["Decrypt"])) == "ValidationException"
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": bad},
                                                       "Action": "kms:*", "Resource": "*"}]}
    assert error_code(lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))) \
        == "MalformedPolicyDocumentException"
    assert kms.list_grants(KeyId=key_id)["Grants"] == []


def test_other_identifiers_are_matched_whole(server, alice):
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    assert error_code(lambda: ec2.register_image(
        Name="trailing-newline\n", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}])) == "InvalidAMIName.Malformed"
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    image_id = register(ec2, "whole-ids")
    assert error_code(lambda: ec2.describe_images(ImageIds=[image_id + "\n"])) == "InvalidAMIID.Malformed"
    assert error_code(lambda: ec2.describe_snapshots(SnapshotIds=[snapshot_id + "\n"])) == "InvalidSnapshotID.Malformed"
    orgs = server.client(alice, "organizations")
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    assert error_code(lambda: orgs.create_organizational_unit(ParentId=root + "\n", Name="x")) == "InvalidInputException"
    for bad in NOT_ACCOUNT_IDS[:3]:
        assert error_code(lambda: orgs.invite_account_to_organization(Target={"Id": bad, "Type": "ACCOUNT"})) \
            == "InvalidInputException"
    ou = orgs.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]
    assert error_code(lambda: ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [
        {"OrganizationalUnitArn": ou["Arn"] + "\n"}]})) == "InvalidParameter"
    assert error_code(lambda: ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [
        {"OrganizationArn": org["Arn"] + "\n"}]})) == "InvalidParameter"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []


BAD_TIMES = ["2030-01-01T00:00:00Z\x00", "2030-01-01T00:00:00Z\n", " 2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z ",
             "\uff12\uff10\uff13\uff10-01-01T00:00:00Z", "\u0662\u0660\u0663\u0660-01-01T00:00:00Z",
             "2030-02-30T00:00:00Z", "2030-W01-1", "1893456000\n", "1_893_456_000", "nan", "2030-01-01T00:00:00+24:00"]


def test_timestamps_are_exact(server, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "exact-times")
    for bad in BAD_TIMES:
        status, code = query(server, alice, {"Action": "EnableImageDeprecation", "ImageId": image_id, "DeprecateAt": bad})
        assert (status, code) == (400, "InvalidParameterValue"), bad
        assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]
        status, code = query(server, alice, {"Action": "DescribeImages", "Owner.1": "self",
                                             "Filter.1.Name": "creation-date", "Filter.1.Value.1": bad})
        assert status == 400 and code == "InvalidParameterValue", bad
    # The forms clients send still work: ISO 8601 with or without fraction and zone, epoch seconds.
    for good, expected in (("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000Z"),
                           ("2030-01-01T01:00:00.000+01:00", "2030-01-01T00:00:00.000Z"),
                           ("1893456000", "2030-01-01T00:00:00.000Z")):
        assert query(server, alice, {"Action": "EnableImageDeprecation", "ImageId": image_id, "DeprecateAt": good}) == (200, None)
        assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeprecationTime"] == expected
    created = ec2.describe_images(ImageIds=[image_id])["Images"][0]["CreationDate"]
    assert [i["ImageId"] for i in ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "creation-date", "Values": [created[:10] + "T*"]}])["Images"]] == [image_id]


@pytest.mark.parametrize("value", ["\u0661", "\uff11", "1\n", " 1", "1_0", "0x1", "+\u0661"])
def test_numbers_are_ascii(server, alice, value):
    status, code = query(server, alice, {"Action": "DescribeImages", "Owner.1": "self", "MaxResults": value})
    assert (status, code) == (400, "InvalidParameterValue")
    status, code = query(server, alice, {"Action": "DescribeImages", "Owner.1": "self",
                                         "Filter.1.Name": "block-device-mapping.volume-size", "Filter.1.Value.1": value})
    assert (status, code) == (400, "InvalidParameterValue")


@pytest.mark.parametrize("index", ["\u00b2", "\u0663", "\uff11", "01", "1 "])
def test_list_indices_are_ascii(server, alice, index):
    status, code = query(server, alice, {"Action": "DescribeImages", f"Owner.{index}": "self"})
    assert status == 400 and code in ("InvalidParameterValue", "UnknownParameter")


def test_text_longer_than_stored_is_refused(server, alice):
    """PostgreSQL failed these statements (an internal error) and SQLite stored them; both refuse them."""
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    long = "x" * 300
    root = [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}]
    for extra in ({"ImageLocation": long}, {"KernelId": long}, {"SriovNetSupport": long}, {"VirtualizationType": long},
                  {"BlockDeviceMappings": root + [{"DeviceName": long, "Ebs": {"VolumeSize": 1}}]},
                  {"BlockDeviceMappings": root + [{"DeviceName": "/dev/sdb", "VirtualName": long}]}):
        kwargs = {"RootDeviceName": "/dev/xvda", "BlockDeviceMappings": root, **extra}
        assert error_code(lambda: ec2.register_image(Name="too-long", **kwargs)) == "InvalidParameterValue", extra
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    volume_id = ec2.describe_volumes()["Volumes"][0]["VolumeId"]
    assert error_code(lambda: ec2.create_snapshot(VolumeId=volume_id, Description=long)) == "InvalidParameterValue"
    assert error_code(lambda: ec2.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1",
                                                Description=long)) == "InvalidParameterValue"
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]] == [snapshot_id]
    image_id = register(ec2, "not-too-long", snapshot_id)
    for extra in ({"KeyName": long}, {"ClientToken": "t" * 65}):
        assert error_code(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, **extra)) \
            == "InvalidParameterValue"
    assert error_code(lambda: ec2.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="copy-token",
                                             ClientToken="t" * 65)) == "InvalidParameterValue"
    assert ec2.describe_instances()["Reservations"] == [] and len(ec2.describe_images(Owners=["self"])["Images"]) == 1
