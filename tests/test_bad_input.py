"""Bad input is an AWS-style client error that changes nothing, never an internal error, and the
error document always parses: bodies that are not JSON, characters no document can carry, forged
pagination tokens, strings longer than AWS or the store takes, too many filter values."""

import base64
import json
import time
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

from amishare.domain import pagination
from support import send_signed
from test_images import amazon_image, error_code, launch, register, snapshot_of_new_volume

EC2_VERSION = "2016-11-15"


def ec2_call(server, account, action, **params):
    status, body = send_signed(server, account, "ec2", urlencode({"Action": action, "Version": EC2_VERSION, **params}))
    root = ElementTree.fromstring(body.decode("utf-8"))  # every answer is a well-formed document
    code = root.find(".//Code")
    return status, (code.text if code is not None else None), root


def json_call(server, account, service, operation, body):
    status, answer = send_signed(server, account, service, body, operation)
    data = json.loads(answer.decode("utf-8"))
    return status, data.get("__type"), data


# --- JSON bodies


def test_a_body_that_is_not_json_runs_nothing(server, alice):
    orgs = server.client(alice, "organizations")
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    for body in (b"{not json", b"[]", b"null", b'"text"', b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000,
                 b'{"a":' * 5000 + b"1" + b"}" * 5000):
        status, code, _ = json_call(server, alice, "organizations", "DeleteOrganization", body)
        assert (status, code) == (400, "SerializationException"), body[:20]
    assert orgs.describe_organization()["Organization"]["Id"] == org["Id"]
    # An empty body is an empty input, as on AWS.
    status, _, data = json_call(server, alice, "organizations", "DescribeOrganization", b"")
    assert status == 200 and data["Organization"]["Id"] == org["Id"]
    kms = server.client(alice, "kms")
    for body in (b"{not json", b"[" * 5000 + b"]" * 5000):
        assert json_call(server, alice, "kms", "CreateKey", body)[:2] == (400, "SerializationException")
    assert kms.list_keys()["Keys"] == []
    orgs.delete_organization()


def test_parameter_names_nested_thousands_deep_are_unknown_parameters(server, alice):
    key = "Filter" + ".1" * 200_000
    started = time.monotonic()
    status, code, root = ec2_call(server, alice, "DescribeImages", **{key: "x"})
    assert (status, code) == (400, "UnknownParameter") and time.monotonic() - started < 10
    assert len(root.find(".//Message").text) < 300


# --- characters no document can carry


def test_error_documents_escape_control_characters(server, alice):
    status, code, root = ec2_call(server, alice, "Describe\x00Images\x01")
    assert (status, code) == (400, "InvalidAction")
    assert "Describe\\x00Images\\x01" in root.find(".//Message").text
    status, code, root = ec2_call(server, alice, "DescribeImages", **{"Bogus\x00\x1b": "1"})
    assert (status, code) == (400, "UnknownParameter")
    assert "Bogus\\x00\\x1b" in root.find(".//Message").text
    # The Query protocol (STS), and JSON (KMS), where a message never carries a lone surrogate.
    status, body = send_signed(server, alice, "sts", urlencode({"Action": "Get\x00Caller", "Version": "2011-06-15"}))
    assert status == 400 and "Get\\x00Caller" in ElementTree.fromstring(body.decode()).find(".//{*}Message").text
    status, code, data = json_call(server, alice, "kms", "CreateKey", '{"Description": "a\\ud800b\\u0001"}')
    assert (status, code) == (400, "ValidationException") and "\\ud800" in data["message"]
    assert not any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 for c in data["message"])


@pytest.mark.parametrize("value", ["a\x00b", "a\x01b", "a\x1fb", "a\ufffeb"])
def test_strings_with_control_characters_are_refused(server, alice, value):
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    status, code, _ = ec2_call(server, alice, "CreateTags", **{"ResourceId.1": snapshot_id, "Tag.1.Key": "k",
                                                               "Tag.1.Value": value})
    assert (status, code) == (400, "InvalidParameterValue")
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [snapshot_id]}])["Tags"] == []
    status, code, _ = json_call(server, alice, "kms", "CreateKey", json.dumps({"Description": value}))
    assert (status, code) == (400, "ValidationException")


def test_lone_surrogates_are_refused(server, alice):
    kms = server.client(alice, "kms")
    for body in ('{"Description": "\\ud800"}', '{"Tags": [{"TagKey": "\\udfff", "TagValue": "v"}]}'):
        assert json_call(server, alice, "kms", "CreateKey", body)[:2] == (400, "ValidationException")
    assert kms.list_keys()["Keys"] == []


# --- pagination tokens


def forged(position: str, *criteria) -> str:
    """A token of the right form and criteria that resumes after `position`: tokens aren't secret."""
    raw = json.dumps({"a": position, "f": pagination.fingerprint(*criteria)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_forged_next_tokens_are_client_errors(server, alice):
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    ec2.create_tags(Resources=[snapshot_id], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(6)])
    page = ec2.describe_tags(MaxResults=5)
    assert len(page["Tags"]) == 5 and ec2.describe_tags(MaxResults=5, NextToken=page["NextToken"])["Tags"]
    for position in ("no-separator", "\x00", "\ud800", "x" * 5000, ""):
        assert error_code(lambda: ec2.describe_tags(MaxResults=5, NextToken=forged(position, "tags", None))) == "InvalidPaginationToken"
    image_id = register(ec2, "usage-token")
    launch(ec2, image_id)
    report_id = ec2.create_image_usage_report(ImageId=image_id, ResourceTypes=[{"ResourceType": "ec2:Instance"}])["ReportId"]
    assert ec2.describe_image_usage_report_entries(ReportIds=[report_id])["ImageUsageReportEntries"]
    for position in ("ten", "-1", "1e3", "\x00"):
        token = forged(position, "usage-entries", None, None)
        assert error_code(lambda: ec2.describe_image_usage_report_entries(NextToken=token)) == "InvalidPaginationToken"
    for position in ("\x00", "\ud800"):
        token = forged(position, "images", alice.account_id, ["self"], [], [], [])
        assert error_code(lambda: ec2.describe_images(Owners=["self"], NextToken=token)) == "InvalidPaginationToken"
    # KMS says InvalidMarkerException, Organizations InvalidInputException.
    kms = server.client(alice, "kms")
    for marker in ("garbage", forged("\x00", "kms-keys")):
        with pytest.raises(ClientError) as exc:
            kms.list_keys(Marker=marker)
        assert exc.value.response["Error"]["Code"] == "InvalidMarkerException"
    orgs = server.client(alice, "organizations")
    orgs.create_organization(FeatureSet="ALL")
    with pytest.raises(ClientError) as exc:
        orgs.list_accounts(NextToken=forged("\x00", "accounts", None))
    assert exc.value.response["Error"]["Code"] == "InvalidInputException"
    assert exc.value.response["Reason"] == "INVALID_NEXT_TOKEN"
    orgs.delete_organization()


# --- lengths: AWS's limits, and no string longer than the column that keeps it


def test_client_tokens_longer_than_64_ascii_characters_are_refused(server, alice):
    ec2 = server.client(alice)
    base = amazon_image(ec2)["ImageId"]
    image_id = register(ec2, "token-source")
    for token in ("t" * 65, "t" * 128, "é" * 10):
        assert error_code(lambda: ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1, ClientToken=token)) == "InvalidParameterValue"
        assert error_code(lambda: ec2.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="copy",
                                                 ClientToken=token)) == "InvalidParameterValue"
        assert error_code(lambda: ec2.create_image_usage_report(
            ImageId=image_id, ResourceTypes=[{"ResourceType": "ec2:Instance"}], ClientToken=token)) == "InvalidParameterValue"
    assert ec2.describe_instances()["Reservations"] == []
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [image_id]
    assert ec2.describe_image_usage_reports()["ImageUsageReports"] == []
    token = "t" * 64
    first = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1, ClientToken=token)["Instances"][0]["InstanceId"]
    assert ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1, ClientToken=token)["Instances"][0]["InstanceId"] == first


def test_strings_longer_than_their_column_are_refused(server, alice):
    """Every request string that is stored, at the length AWS's model allows or beyond its column."""
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    volume_id = ec2.describe_volumes()["Volumes"][0]["VolumeId"]
    base = amazon_image(ec2)["ImageId"]
    long = "x" * 300
    register_image = {"Name": "long-fields", "RootDeviceName": "/dev/xvda", "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
                      "BlockDeviceMapping.1.Ebs.SnapshotId": snapshot_id}
    cases = [("RegisterImage", {**register_image, field: long}) for field in
             ("ImageLocation", "KernelId", "RamdiskId", "VirtualizationType", "SriovNetSupport",
              "Description")]
    cases += [
        ("RegisterImage", {**register_image, "BlockDeviceMapping.2.DeviceName": "/dev/sdb", "BlockDeviceMapping.2.VirtualName": long}),
        ("RegisterImage", {**register_image, "BlockDeviceMapping.1.DeviceName": long, "RootDeviceName": long}),
        ("CreateSnapshot", {"VolumeId": volume_id, "Description": long}),
        ("CopySnapshot", {"SourceSnapshotId": snapshot_id, "SourceRegion": "us-east-1", "Description": long}),
        ("RunInstances", {"ImageId": base, "MinCount": "1", "MaxCount": "1", "KeyName": long}),
        ("CreateVolume", {"AvailabilityZone": "us-east-1a", "Size": "1", "ClientToken": long}),
    ]
    before = (ec2.describe_images(Owners=["self"])["Images"], ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"],
              ec2.describe_instances()["Reservations"], ec2.describe_volumes()["Volumes"])
    for action, params in cases:
        status, code, _ = ec2_call(server, alice, action, **params)
        assert (status, code) == (400, "InvalidParameterValue"), (action, list(params)[-1])
    after = (ec2.describe_images(Owners=["self"])["Images"], ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"],
             ec2.describe_instances()["Reservations"], ec2.describe_volumes()["Volumes"])
    assert after == before


def test_filter_values_are_limited_to_200_a_call(server, alice):
    ec2 = server.client(alice)
    values = [f"a*b?{i}" for i in range(1000)]
    for call in (lambda: ec2.describe_images(Filters=[{"Name": "name", "Values": values}]),
                 lambda: ec2.describe_tags(Filters=[{"Name": "key", "Values": values}]),
                 lambda: ec2.describe_snapshots(Filters=[{"Name": "description", "Values": values[:150]},
                                                         {"Name": "status", "Values": values[:51]}])):
        assert error_code(call) == "FilterLimitExceeded"
    assert ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023*"] + values[:199]}])["Images"]


def test_service_control_policies_outside_the_grammar_are_malformed(server, alice):
    """SCP documents are checked by the same policy grammar as key policies (no Principal)."""
    orgs = server.client(alice, "organizations")
    orgs.create_organization(FeatureSet="ALL")
    bad = [
        '{"Version": "2012-10-17", "Statement": ' + "[" * 2000 + "]" * 2000 + "}",
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*",
                                                            "Condition": [{"StringEquals": {"a": "b"}}]}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": 5}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*",
                                                            "Condition": {"NumericLessThan": {"aws:x": "ten"}}}]}),
    ]
    for content in bad:
        with pytest.raises(ClientError) as exc:
            orgs.create_policy(Content=content, Description="", Name="bad", Type="SERVICE_CONTROL_POLICY")
        assert exc.value.response["Error"]["Code"] == "MalformedPolicyDocumentException", content[:80]
    assert orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] == [] or all(
        p["Name"] != "bad" for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"])
    orgs.delete_organization()


def test_a_thousand_accounts_in_executable_and_restorable_users(server, alice, bob):
    """Every other account named is one condition: no expression too deep, no statement per account."""
    ec2 = server.client(alice)
    snapshot_id = snapshot_of_new_volume(ec2)
    image_id = register(ec2, "shared-with-bob", snapshot_id)
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, CreateVolumePermission={"Add": [{"UserId": bob.account_id}]})
    others = [f"{i:012d}" for i in range(1, 1000)] + [bob.account_id]
    started = time.monotonic()
    assert [i["ImageId"] for i in ec2.describe_images(ExecutableUsers=others)["Images"]] == [image_id]
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(RestorableByUserIds=others)["Snapshots"]] == [snapshot_id]
    assert ec2.describe_images(ExecutableUsers=others[:999])["Images"] == []
    assert ec2.describe_snapshots(RestorableByUserIds=others[:999])["Snapshots"] == []
    assert time.monotonic() - started < 20
