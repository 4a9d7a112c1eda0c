"""The audit trail: every call recorded once as a CloudTrail management event, looked up with
boto3's cloudtrail client (LookupEvents) and `amishare audit`, on SQLite and PostgreSQL."""

import json
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from support import CLIENT_CONFIG, expect_error, policy_document, send_signed
from test_images import register


def trail(server, account, region=None):
    return server.client(account, "cloudtrail", region=region)


def lookup(server, account, key=None, value=None, region=None, **kwargs) -> list[dict]:
    """Every event LookupEvents pages through (newest first), each with its record parsed as "Record"."""
    if key is not None:
        kwargs["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    client, events, token = trail(server, account, region), [], None
    while True:
        page = client.lookup_events(**kwargs, **({"NextToken": token} if token else {}))
        events.extend(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
    for event in events:
        event["Record"] = json.loads(event["CloudTrailEvent"])
    return events


def by_request(server, account, request_id: str, **kwargs) -> list[dict]:
    return [e["Record"] for e in lookup(server, account, **kwargs) if e["Record"]["requestID"] == request_id]


def request_id(response) -> str:
    return response["ResponseMetadata"]["RequestId"]


def refused(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def test_a_call_is_recorded_once_with_every_field(server, alice):
    ec2 = server.client(alice)
    image = register(ec2, "audited-image")
    answer = ec2.create_tags(Resources=[image], Tags=[{"Key": "team", "Value": "build"}])
    [record] = by_request(server, alice, request_id(answer), key="EventName", value="CreateTags")
    assert record["eventVersion"].startswith("1.")
    assert record["eventSource"] == "ec2.amazonaws.com" and record["eventName"] == "CreateTags"
    assert record["awsRegion"] == "us-east-1" and record["sourceIPAddress"] == "127.0.0.1"
    assert record["userAgent"].startswith("Boto3/")
    assert record["userIdentity"] == {"type": "Root", "principalId": alice.account_id, "arn": alice.arn,
                                      "accountId": alice.account_id, "accessKeyId": alice.access_key_id}
    assert record["requestParameters"] == {
        "resourceIdSet": {"items": [{"resourceId": image}]},
        "tagSet": {"items": [{"key": "team", "value": "build"}]}}
    assert record["responseElements"] == {"requestId": request_id(answer), "_return": True}
    assert record["readOnly"] is False and record["eventType"] == "AwsApiCall"
    assert record["managementEvent"] is True and record["eventCategory"] == "Management"
    assert record["recipientAccountId"] == alice.account_id
    assert "errorCode" not in record
    assert datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
    # A read is recorded too, without its response.
    described = ec2.describe_images(ImageIds=[image])
    [read] = by_request(server, alice, request_id(described))
    assert read["readOnly"] is True and read["responseElements"] is None
    assert read["requestParameters"] == {"imageIdSet": {"items": [{"imageId": image}]}}
    # Writes carry what they answered.
    copied = ec2.copy_image(SourceImageId=image, SourceRegion="us-east-1", Name="audited-copy")
    [copy] = by_request(server, alice, request_id(copied), key="EventName", value="CopyImage")
    assert copy["responseElements"] == {"requestId": request_id(copied), "imageId": copied["ImageId"]}


def test_a_refused_modify_image_attribute_is_recorded_with_its_error_code(server, alice, bob):
    ec2 = server.client(alice)
    image = register(ec2, "guarded-image")
    reader = server.new_user(alice, "reader", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    answer = refused(lambda: server.client(reader).modify_image_attribute(
        ImageId=image, LaunchPermission={"Add": [{"UserId": bob.account_id}]}))
    assert answer["Error"]["Code"] == "UnauthorizedOperation"
    [event] = [e for e in lookup(server, alice, "EventName", "ModifyImageAttribute")
               if e["Record"]["requestID"] == request_id(answer)]
    record = event["Record"]
    assert record["errorCode"] == "Client.UnauthorizedOperation"
    assert record["errorMessage"].startswith("You are not authorized to perform this operation.")
    assert record["responseElements"] is None
    assert record["requestParameters"]["imageId"] == image
    assert record["requestParameters"]["launchPermission"] == {"add": {"items": [{"userId": bob.account_id}]}}
    assert record["userIdentity"]["type"] == "IAMUser" and record["userIdentity"]["userName"] == "reader"
    assert record["userIdentity"]["arn"] == reader.arn
    assert record["userIdentity"]["accessKeyId"] == reader.access_key_id
    assert record["userIdentity"]["principalId"].startswith("AIDA")
    assert event["Username"] == "reader" and event["AccessKeyId"] == reader.access_key_id
    # The refusal rolled back; the record stayed. Nothing was shared.
    assert ec2.describe_image_attribute(ImageId=image, Attribute="launchPermission")["LaunchPermissions"] == []


def test_another_accounts_launch_and_copy_of_a_shared_image_reach_the_owners_trail(server, alice, bob):
    ec2 = server.client(alice)
    image = register(ec2, "shared-image")
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    snapshot = ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission",
                                  CreateVolumePermission={"Add": [{"UserId": bob.account_id}]})
    theirs = server.client(bob)
    launched = theirs.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    instance = launched["Instances"][0]["InstanceId"]
    copied = theirs.copy_image(SourceImageId=image, SourceRegion="us-east-1", Name="bobs-copy")

    owners = {e["Record"]["eventName"]: e for e in lookup(server, alice, "ResourceName", image)
              if e["Record"]["requestID"] in (request_id(launched), request_id(copied))}
    assert set(owners) == {"RunInstances", "CopyImage"}
    [callers_launch] = by_request(server, bob, request_id(launched), key="EventName", value="RunInstances")
    launch = owners["RunInstances"]["Record"]
    assert launch["recipientAccountId"] == alice.account_id
    assert launch["userIdentity"] == {"type": "AWSAccount", "principalId": bob.account_id, "accountId": bob.account_id}
    assert launch["requestParameters"]["imageId"] == image
    assert launch["sharedEventID"] == callers_launch["sharedEventID"]
    assert launch["eventID"] != callers_launch["eventID"]
    # The owner learns that its image was used, not what the other account made with it.
    assert instance not in owners["RunInstances"]["CloudTrailEvent"]
    assert launch["responseElements"] is None
    assert callers_launch["recipientAccountId"] == bob.account_id
    assert callers_launch["userIdentity"]["type"] == "Root"
    assert instance in json.dumps(callers_launch["responseElements"])
    assert owners["CopyImage"]["Record"]["userIdentity"]["accountId"] == bob.account_id
    # The owner's own calls are not copied to anyone, and Amazon's images give no copy to Amazon.
    own = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert "sharedEventID" not in by_request(server, alice, request_id(own), key="EventName", value="RunInstances")[0]


def test_every_lookup_attribute(server, alice, bob):
    ec2 = server.client(alice)
    image = register(ec2, "looked-up")
    iam = server.client(alice, "iam")
    iam.create_user(UserName="someone")
    user = server.new_user(alice, "operator", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    described = server.client(user).describe_images(ImageIds=[image])
    ec2.create_tags(Resources=[image], Tags=[{"Key": "stage", "Value": "test"}])
    server.client(bob).describe_regions()

    everything = lookup(server, alice)
    names = {e["EventName"] for e in everything}
    assert {"RegisterImage", "CreateUser", "CreateAccessKey", "DescribeImages"} <= names
    assert "DescribeRegions" not in names  # bob's call is bob's
    assert all(e["Record"]["recipientAccountId"] == alice.account_id for e in everything)

    def ids(key, value):
        return {e["EventId"] for e in lookup(server, alice, key, value)}

    one = everything[3]
    assert ids("EventId", one["EventId"]) == {one["EventId"]}
    assert ids("EventId", lookup(server, bob)[0]["EventId"]) == set()  # another account's event
    assert {e["EventName"] for e in lookup(server, alice, "EventName", "CreateUser")} == {"CreateUser"}
    read = lookup(server, alice, "ReadOnly", "true")
    assert read and all(e["ReadOnly"] == "true" and e["Record"]["readOnly"] is True for e in read)
    written = lookup(server, alice, "ReadOnly", "false")
    assert written and all(e["ReadOnly"] == "false" for e in written)
    assert {e["EventId"] for e in everything} <= ids("ReadOnly", "true") | ids("ReadOnly", "false")
    assert {e["Username"] for e in lookup(server, alice, "Username", "root")} == {"root"}
    [by_user] = lookup(server, alice, "Username", "operator")
    assert by_user["Record"]["requestID"] == request_id(described)
    assert ids("AccessKeyId", user.access_key_id) == {by_user["EventId"]}
    iam_events = lookup(server, alice, "EventSource", "iam.amazonaws.com")
    assert {e["EventName"] for e in iam_events} >= {"CreateUser", "CreateAccessKey"}
    assert all(e["EventSource"] == "iam.amazonaws.com" for e in iam_events)
    on_image = lookup(server, alice, "ResourceName", image)
    # Event history names the resources of calls that change something, as AWS's does.
    assert {e["EventName"] for e in on_image} == {"RegisterImage", "CreateTags"}
    assert all({"ResourceType": "AWS::EC2::Image", "ResourceName": image} in e["Resources"] for e in on_image)
    users = lookup(server, alice, "ResourceType", "AWS::IAM::User")
    assert {"ResourceType": "AWS::IAM::User", "ResourceName": "someone"} in users[-1]["Resources"] or any(
        {"ResourceType": "AWS::IAM::User", "ResourceName": "someone"} in e["Resources"] for e in users)
    assert all(any(r["ResourceType"] == "AWS::IAM::User" for r in e["Resources"]) for e in users)

    client = trail(server, alice)
    for attributes in ([{"AttributeKey": "EventName", "AttributeValue": "A"},
                        {"AttributeKey": "Username", "AttributeValue": "B"}],
                       [{"AttributeKey": "Colour", "AttributeValue": "blue"}],
                       [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]):
        expect_error(lambda: client.lookup_events(LookupAttributes=attributes), "InvalidLookupAttributesException")


def test_newest_first_in_pages(server, alice):
    ec2 = server.client(alice)
    made = [request_id(ec2.describe_regions()) for _ in range(7)]
    client = trail(server, alice)
    events, token, pages = [], None, 0
    while True:
        page = client.lookup_events(MaxResults=3, **({"NextToken": token} if token else {}))
        assert len(page["Events"]) <= 3
        events.extend(page["Events"])
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 3
    ids = [e["EventId"] for e in events]
    assert len(ids) == len(set(ids))
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    seen = [json.loads(e["CloudTrailEvent"])["requestID"] for e in events]
    assert [r for r in seen if r in made] == list(reversed(made))
    # A token belongs to the request that produced it.
    first = client.lookup_events(MaxResults=2)
    expect_error(lambda: client.lookup_events(MaxResults=2, NextToken=first["NextToken"], LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DescribeRegions"}]), "InvalidNextTokenException")
    expect_error(lambda: client.lookup_events(NextToken="not-a-token"), "InvalidNextTokenException")
    expect_error(lambda: client.lookup_events(MaxResults=51), "InvalidMaxResultsException")
    assert client.lookup_events(EventCategory="insight")["Events"] == []


def test_time_ranges(server, alice):
    ec2 = server.client(alice)
    before = datetime.now(timezone.utc) - timedelta(seconds=2)
    answer = ec2.describe_regions()
    client = trail(server, alice)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    within = client.lookup_events(StartTime=before, EndTime=later)["Events"]
    assert request_id(answer) in [json.loads(e["CloudTrailEvent"])["requestID"] for e in within]
    assert all(before <= e["EventTime"] <= later for e in within)
    assert client.lookup_events(StartTime=later)["Events"] == []
    assert client.lookup_events(EndTime=before - timedelta(days=1))["Events"] == []
    expect_error(lambda: client.lookup_events(StartTime=later, EndTime=before), "InvalidTimeRangeException")


def test_scoped_to_the_callers_account_and_region(server, alice, bob):
    answer = server.client(alice, region="eu-west-1").describe_regions()
    assert by_request(server, alice, request_id(answer), region="eu-west-1")
    assert not by_request(server, alice, request_id(answer))  # us-east-1
    assert not by_request(server, bob, request_id(answer), region="eu-west-1")


def test_lookup_events_is_authorized_by_iam(server, alice):
    nobody = server.new_user(alice, "nobody")
    answer = refused(lambda: trail(server, nobody).lookup_events())
    assert answer["Error"]["Code"] == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in answer["Error"]["Message"]
    auditor = server.new_user(alice, "auditor")
    server.client(alice, "iam").put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}))
    events = lookup(server, auditor, "EventName", "LookupEvents")
    [denied] = [e["Record"] for e in events if e["Record"]["requestID"] == request_id(answer)]
    assert denied["errorCode"] == "AccessDeniedException" and denied["eventSource"] == "cloudtrail.amazonaws.com"
    assert denied["readOnly"] is True


def test_a_dry_run_is_recorded_as_such(server, alice, bob):
    ec2 = server.client(alice)
    image = register(ec2, "dry-run-image")
    answer = refused(lambda: ec2.modify_image_attribute(
        ImageId=image, LaunchPermission={"Add": [{"UserId": bob.account_id}]}, DryRun=True))
    assert answer["Error"]["Code"] == "DryRunOperation"
    [record] = by_request(server, alice, request_id(answer), key="EventName", value="ModifyImageAttribute")
    assert record["errorCode"] == "Client.DryRunOperation"
    assert record["errorMessage"] == "Request would have succeeded, but DryRun flag is set."
    assert record["requestParameters"]["dryRun"] is True
    assert record["responseElements"] is None
    assert ec2.describe_image_attribute(ImageId=image, Attribute="launchPermission")["LaunchPermissions"] == []


def test_failed_and_malformed_calls_are_recorded(server, alice):
    ec2 = server.client(alice)
    missing = refused(lambda: ec2.describe_images(ImageIds=["ami-0123456789abcdef0"]))
    [record] = by_request(server, alice, request_id(missing), key="EventName", value="DescribeImages")
    assert record["errorCode"] == "Client.InvalidAMIID.NotFound"
    status, body = send_signed(server, alice, "ec2", "Action=DescribeImages&Version=2016-11-15&MaxResults=banana")
    assert status == 400
    malformed = [e["Record"] for e in lookup(server, alice, "EventName", "DescribeImages")
                 if e["Record"].get("errorCode") == "Client.InvalidParameterValue"]
    assert malformed and malformed[0]["requestParameters"] is None


def test_nothing_is_recorded_for_a_request_that_fails_authentication(server, alice):
    before = {e["EventId"] for e in lookup(server, alice)}
    forged = boto3.client("ec2", endpoint_url=server.endpoint, region_name="us-east-1", config=CLIENT_CONFIG,
                          aws_access_key_id=alice.access_key_id, aws_secret_access_key="x" * 40)
    bad_signature = refused(forged.describe_regions)
    assert bad_signature["Error"]["Code"] == "AuthFailure"
    unknown = boto3.client("ec2", endpoint_url=server.endpoint, region_name="us-east-1", config=CLIENT_CONFIG,
                           aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40)
    assert refused(unknown.describe_regions)["Error"]["Code"] == "AuthFailure"
    after = lookup(server, alice)
    new = [e for e in after if e["EventId"] not in before]
    assert [e["EventName"] for e in new] == ["LookupEvents"]  # only the first lookup itself
    assert all(e["Record"]["requestID"] != request_id(bad_signature) for e in after)


def assumer(server, account):
    """An IAM user of `account` that may assume the account's roles."""
    user = server.new_user(account, "assumer")
    server.client(account, "iam").put_user_policy(UserName="assumer", PolicyName="assume", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    return user


def test_secrets_never_reach_the_trail(server, alice):
    iam = server.client(alice, "iam")
    iam.create_user(UserName="keyholder")
    key = iam.create_access_key(UserName="keyholder")["AccessKey"]
    iam.create_login_profile(UserName="keyholder", Password="Corr3ct-Horse-Battery!")
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=policy_document(
        {"Effect": "Allow", "Principal": {"AWS": alice.arn}, "Action": "sts:AssumeRole"}))["Role"]
    session = server.assume(assumer(server, alice), role["Arn"], "release-42")
    ec2 = server.client(alice)
    image = register(ec2, "userdata-image")
    ran = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            UserData="c2VjcmV0LXVzZXItZGF0YQ==")
    everything = lookup(server, alice)
    text = " ".join(e["CloudTrailEvent"] for e in everything)
    for secret in (key["SecretAccessKey"], "Corr3ct-Horse-Battery!", session.secret_access_key,
                   alice.secret_access_key, "c2VjcmV0LXVzZXItZGF0YQ=="):
        assert secret not in text
    [created] = [e["Record"] for e in everything if e["EventName"] == "CreateAccessKey"
                 and e["Record"]["requestParameters"] == {"userName": "keyholder"}]
    assert created["responseElements"]["accessKey"]["accessKeyId"] == key["AccessKeyId"]
    assert "secretAccessKey" not in created["responseElements"]["accessKey"]
    [profile] = [e["Record"] for e in everything if e["EventName"] == "CreateLoginProfile"]
    assert profile["requestParameters"]["password"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    [assumed] = [e["Record"] for e in everything if e["EventName"] == "AssumeRole"]
    assert assumed["responseElements"]["credentials"]["accessKeyId"] == session.access_key_id
    assert "secretAccessKey" not in assumed["responseElements"]["credentials"]
    [launch] = by_request(server, alice, request_id(ran), key="EventName", value="RunInstances")
    assert launch["requestParameters"]["userData"] == "<sensitiveDataRemoved>"
    # Policy documents are logged, as AWS logs them.
    [made_role] = [e["Record"] for e in everything if e["EventName"] == "CreateRole"]
    assert "sts:AssumeRole" in made_role["requestParameters"]["assumeRolePolicyDocument"]


def test_a_role_sessions_identity(server, alice):
    iam = server.client(alice, "iam")
    role = iam.create_role(RoleName="auditor-role", Path="/ops/", AssumeRolePolicyDocument=policy_document(
        {"Effect": "Allow", "Principal": {"AWS": alice.arn}, "Action": "sts:AssumeRole"}))["Role"]
    iam.attach_role_policy(RoleName="auditor-role", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    session = server.assume(assumer(server, alice), role["Arn"], "night-shift")
    answer = server.client(session).describe_regions()
    [event] = [e for e in lookup(server, alice, "Username", "night-shift")
               if e["Record"]["requestID"] == request_id(answer)]
    identity = event["Record"]["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["arn"] == session.arn
    assert identity["principalId"] == f"{role['RoleId']}:night-shift"
    assert identity["accessKeyId"] == session.access_key_id
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer == {"type": "Role", "principalId": role["RoleId"], "arn": role["Arn"],
                      "accountId": alice.account_id, "userName": "auditor-role"}
    attributes = identity["sessionContext"]["attributes"]
    assert attributes["mfaAuthenticated"] == "false"
    created = datetime.strptime(attributes["creationDate"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((created - datetime.now(timezone.utc)).total_seconds()) < 600


def test_the_audit_command(server, alice):
    ec2 = server.client(alice)
    image = register(ec2, "cli-image")
    answer = ec2.create_tags(Resources=[image], Tags=[{"Key": "k", "Value": "v"}])
    lookup(server, alice)  # the server has written everything it answered
    out = json.loads(server.cli("audit", "--db", server.db_url, "--account", alice.account_id, "--format", "json"))
    records = out["Records"]
    assert request_id(answer) in [r["requestID"] for r in records]
    times = [r["eventTime"] for r in records]
    assert times == sorted(times, reverse=True)
    assert all(r["recipientAccountId"] == alice.account_id for r in records)
    only = json.loads(server.cli("audit", "--db", server.db_url, "--account", alice.account_id, "--format", "json",
                                 "--event-name", "CreateTags", "--event-name", "RegisterImage", "--region", "us-east-1"))
    assert {r["eventName"] for r in only["Records"]} == {"CreateTags", "RegisterImage"}
    assert json.loads(server.cli("audit", "--db", server.db_url, "--account", alice.account_id, "--format", "json",
                                 "--since", "2099-01-01T00:00:00Z"))["Records"] == []
    table = server.cli("audit", "--db", server.db_url, "--account", alice.account_id, "--since", "1h")
    assert "CreateTags" in table and "RegisterImage" in table and alice.arn in table


def test_expired_events_are_not_shown_and_are_purged(server, alice):
    from sqlalchemy import update

    from amishare.application.audit import purge
    from amishare.store.schema import trail_events

    answer = server.client(alice).describe_regions()
    [event] = [e for e in lookup(server, alice) if e["Record"]["requestID"] == request_id(answer)]
    store = server._open_store()
    long_ago = time.time() - 91 * 86400
    with store.transaction() as conn:
        conn.execute(update(trail_events).where(trail_events.c.event_id == event["EventId"]).values(event_time=long_ago))
    assert event["EventId"] not in {e["EventId"] for e in lookup(server, alice)}  # past the 90 days kept
    assert purge(store, time.time() - 90 * 86400) >= 1
    with store.transaction(write=False) as conn:
        assert conn.execute(trail_events.select().where(trail_events.c.event_id == event["EventId"])).first() is None


def test_trail_listeners_run_in_the_transaction_that_writes_the_record(tmp_path, monkeypatch):
    """The hook other features (events) plug into: each listener sees each record, on the
    connection of the transaction that writes it."""
    from sqlalchemy import select

    from amishare.api.asgi import build_application
    from amishare.application import Call
    from amishare.domain.principal import Principal
    from amishare.store.schema import trail_events

    monkeypatch.setenv("AMISHARE_MASTER_KEY_FILE", str(tmp_path / "master.key"))
    app = build_application(f"sqlite:///{tmp_path / 'hook.db'}")
    seen = []

    def listener(conn, record):
        stored = conn.execute(select(trail_events.c.record).where(
            trail_events.c.event_id == record["eventID"])).scalar_one()
        seen.append((record["eventName"], record.get("errorCode"), json.loads(stored) == record))

    app.trail_listeners.append(listener)
    try:
        principal = Principal.root("111122223333", "AKIAEXAMPLEEXAMPLE00")
        ok = app.invoke(Call(principal, "us-east-1", "ec2", "DescribeRegions", {}))
        assert ok.succeeded
        app.invoke(Call(principal, "us-east-1", "ec2", "DescribeImages", {"ImageIds": ["ami-0123456789abcdef0"]}))
        assert app.trail.flush()
        assert seen == [("DescribeRegions", None, True), ("DescribeImages", "Client.InvalidAMIID.NotFound", True)]
    finally:
        app.close()
        app.store.dispose()
