"""EventBridge through boto3's `events` client: rules, patterns (TestEventPattern and
PutEvents), connections and API destinations, authorization, and the events EC2 and
CloudTrail records produce (never for a dry run or a refused call)."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from events_support import ami_pattern, destination, events_server, outbox_count, outbox_events, rule_to
from receiver import Receiver, wait_until
from support import free_port
from test_images import register, snapshot_of_new_volume


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    srv, cleanup = events_server(backend, tmp_path_factory.mktemp(f"events-{backend}"))
    srv.start()
    yield srv
    srv.stop()
    cleanup()


@pytest.fixture
def alice(server):
    return server.new_account()


@pytest.fixture
def bob(server):
    return server.new_account()


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def error_of(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "EC2 AMI State Change",
         "source": "aws.ec2", "account": "111122223333", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0"],
         "detail": {"ImageId": "ami-0123456789abcdef0", "State": "available", "ErrorMessage": "",
                    "size": 12, "tags": ["golden", "linux"], "owner": {"team": "Platform", "ip": "10.0.3.7"},
                    "items": [{"kind": "a", "n": 1}, {"kind": "b", "n": 5}], "empty": None}}

MATCHING = [
    {"source": ["aws.ec2"]},
    {"detail": {"State": ["available", "failed"]}},
    {"detail": {"ImageId": [{"prefix": "ami-0123"}]}},
    {"detail": {"ImageId": [{"suffix": "cdef0"}]}},
    {"detail": {"State": [{"anything-but": ["failed", "deregistered"]}]}},
    {"detail": {"State": [{"anything-but": {"prefix": "dis"}}]}},
    {"detail": {"size": [{"numeric": [">", 10, "<=", 12]}]}},
    {"detail": {"size": [12]}},
    {"detail": {"ErrorMessage": [{"exists": True}], "missing": [{"exists": False}]}},
    {"detail": {"owner": {"team": [{"equals-ignore-case": "platform"}]}}},
    {"detail": {"owner": {"ip": [{"cidr": "10.0.0.0/16"}]}}},
    {"detail": {"tags": ["linux"]}},
    {"detail": {"items": {"kind": ["b"], "n": [{"numeric": [">=", 5]}]}}},
    {"detail": {"ImageId": [{"wildcard": "ami-*cdef*"}]}},
    {"detail": {"empty": [None]}},
    {"detail": {"ErrorMessage": [""]}},
    {"$or": [{"source": ["aws.s3"]}, {"detail": {"State": ["available"]}}]},
    {"detail-type": [{"prefix": {"equals-ignore-case": "ec2 ami"}}]},
]

NOT_MATCHING = [
    {"source": ["aws.s3"]},
    {"detail": {"State": ["failed"]}},
    {"detail": {"State": ["AVAILABLE"]}},
    {"detail": {"ImageId": [{"prefix": "ami-9"}]}},
    {"detail": {"State": [{"anything-but": "available"}]}},
    {"detail": {"size": [{"numeric": ["<", 12]}]}},
    {"detail": {"size": ["12"]}},
    {"detail": {"ErrorMessage": [{"exists": False}]}},
    {"detail": {"missing": [{"exists": True}]}},
    {"detail": {"missing": [{"anything-but": "x"}]}},
    {"detail": {"owner": {"team": ["platform"]}}},
    {"detail": {"owner": {"ip": [{"cidr": "10.1.0.0/16"}]}}},
    {"detail": {"tags": ["windows"]}},
    {"detail": {"ImageId": [{"wildcard": "ami-*xyz*"}]}},
    {"$or": [{"source": ["aws.s3"]}, {"detail": {"State": ["failed"]}}]},
    {"detail": {"owner": ["Platform"]}},
]

INVALID = [
    "not json",
    "[]",
    json.dumps({"source": "aws.ec2"}),
    json.dumps({"source": []}),
    json.dumps({}),
    json.dumps({"detail": {"size": [{"numeric": [">", "ten"]}]}}),
    json.dumps({"detail": {"size": [{"numeric": ["<", 5, ">", 10]}]}}),
    json.dumps({"detail": {"x": [{"exists": "yes"}]}}),
    json.dumps({"detail": {"x": [{"unknown-op": "a"}]}}),
    json.dumps({"detail": {"x": [{"prefix": "a", "suffix": "b"}]}}),
    json.dumps({"detail": {"x": [{"wildcard": "a**b"}]}}),
    json.dumps({"detail": {"x": [{"cidr": "not-an-ip"}]}}),
    json.dumps({"$or": [{"source": ["a"]}]}),
    json.dumps({"detail": {"x": [{"numeric": [">", 1e12]}]}}),
]


def test_patterns_match_as_eventbridge_documents(server, alice):
    events = server.client(alice, "events")
    for pattern in MATCHING:
        assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))["Result"], pattern
    for pattern in NOT_MATCHING:
        assert not events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))["Result"], \
            pattern


def test_invalid_and_hostile_patterns_are_refused(server, alice):
    events = server.client(alice, "events")
    for text in INVALID:
        code, message = error_of(lambda: events.test_event_pattern(EventPattern=text, Event=json.dumps(EVENT)))
        assert code == "InvalidEventPatternException", text
        assert message.startswith("Event pattern is not valid. Reason:")
        assert error_of(lambda: events.put_rule(Name="bad", EventPattern=text))[0] == "InvalidEventPatternException"
    deep = {"a": ["x"]}
    for _ in range(40):
        deep = {"n": deep}
    many_values = {"detail": {"x": [f"v{i}" for i in range(400)]}}
    or_bomb = {"$or": [{"$or": [{"$or": [{"a": [str(i), str(j), str(k)]} for k in range(9)]} for j in range(9)]}
                       for i in range(9)]}
    for hostile in (deep, many_values, or_bomb):
        text = json.dumps(hostile)
        code, _ = error_of(lambda: events.put_rule(Name="hostile", EventPattern=text))
        assert code in ("InvalidEventPatternException", "ValidationException")
    # A pattern past the 4096-character limit, and a wildcard that would backtrack without end elsewhere.
    assert error_of(lambda: events.put_rule(Name="long", EventPattern=json.dumps({"a": ["x" * 5000]})))[0] \
        == "ValidationException"
    wild = json.dumps({"detail": {"x": [{"wildcard": "*a*a*a*a*a*a*a*a*a*a*b"}]}})
    event = dict(EVENT, detail={"x": "a" * 50_000})
    assert events.test_event_pattern(EventPattern=wild, Event=json.dumps(event))["Result"] is False
    assert error_of(lambda: events.test_event_pattern(EventPattern=json.dumps({"a": ["b"]}), Event="{}"))[0] \
        == "ValidationException"
    assert error_of(lambda: events.list_rules(EventBusName="other-bus"))[0] == "ResourceNotFoundException"


def test_rule_lifecycle(server, alice, bob):
    events = server.client(alice, "events")
    pattern = json.dumps(ami_pattern(alice.account_id))
    arn = events.put_rule(Name="ami-ready", EventPattern=pattern, Description="new AMIs")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:{alice.account_id}:rule/ami-ready"
    described = events.describe_rule(Name="ami-ready")
    assert described["State"] == "ENABLED" and described["EventBusName"] == "default"
    assert json.loads(described["EventPattern"]) == json.loads(pattern)
    assert described["Description"] == "new AMIs" and described["CreatedBy"] == alice.account_id
    for i in range(3):
        events.put_rule(Name=f"other-{i}", EventPattern=pattern, State="DISABLED")
    first = events.list_rules(NamePrefix="other-", Limit=2)
    assert [r["Name"] for r in first["Rules"]] == ["other-0", "other-1"]
    second = events.list_rules(NamePrefix="other-", Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in second["Rules"]] == ["other-2"] and "NextToken" not in second
    events.disable_rule(Name="ami-ready")
    assert events.describe_rule(Name="ami-ready")["State"] == "DISABLED"
    events.enable_rule(Name="ami-ready")
    assert events.describe_rule(Name="ami-ready")["State"] == "ENABLED"
    # Rules are the account's own: bob sees none of them.
    assert server.client(bob, "events").list_rules()["Rules"] == []
    assert error_of(lambda: server.client(bob, "events").describe_rule(Name="ami-ready"))[0] \
        == "ResourceNotFoundException"
    # In another Region, the account's bus is another bus.
    assert server.client(alice, "events", region="eu-west-1").list_rules()["Rules"] == []
    target = destination(server, alice, "http://127.0.0.1:9/")
    events.put_targets(Rule="ami-ready", Targets=[{"Id": "hook", "Arn": target, "InputPath": "$.detail"}])
    listed = events.list_targets_by_rule(Rule="ami-ready")["Targets"]
    assert listed == [{"Id": "hook", "Arn": target, "InputPath": "$.detail"}]
    assert error_of(lambda: events.delete_rule(Name="ami-ready"))[0] == "ValidationException"
    events.remove_targets(Rule="ami-ready", Ids=["hook"])
    events.delete_rule(Name="ami-ready")
    assert error_of(lambda: events.describe_rule(Name="ami-ready"))[0] == "ResourceNotFoundException"
    assert error_of(lambda: events.enable_rule(Name="ami-ready"))[0] == "ResourceNotFoundException"


def test_targets_are_checked(server, alice):
    events = server.client(alice, "events")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    target = destination(server, alice, "http://127.0.0.1:9/")
    both = {"Id": "t", "Arn": target, "Input": "{}", "InputPath": "$.detail"}
    assert error_of(lambda: events.put_targets(Rule="r", Targets=[both]))[0] == "ValidationException"
    bad_path = {"Id": "t", "Arn": target, "InputTransformer": {"InputPathsMap": {"x": "detail"},
                                                              "InputTemplate": "<x>"}}
    assert error_of(lambda: events.put_targets(Rule="r", Targets=[bad_path]))[0] == "ValidationException"
    unknown = {"Id": "t", "Arn": f"arn:aws:events:us-east-1:{alice.account_id}:api-destination/nope/x"}
    assert error_of(lambda: events.put_targets(Rule="r", Targets=[unknown]))[0] == "ValidationException"
    retry = {"Id": "t", "Arn": target, "RetryPolicy": {"MaximumRetryAttempts": 500}}
    assert error_of(lambda: events.put_targets(Rule="r", Targets=[retry]))[0] == "ValidationException"
    events.put_targets(Rule="r", Targets=[{"Id": f"t{i}", "Arn": target} for i in range(5)])
    assert error_of(lambda: events.put_targets(Rule="r", Targets=[{"Id": "t9", "Arn": target}]))[0] \
        == "LimitExceededException"
    assert error_of(lambda: events.put_targets(Rule="missing", Targets=[{"Id": "t", "Arn": target}]))[0] \
        == "ResourceNotFoundException"


def test_connections_keep_their_secrets(server, alice):
    events = server.client(alice, "events")
    created = events.create_connection(
        Name="hooks", AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "very-secret"},
                        "InvocationHttpParameters": {"HeaderParameters": [
                            {"Key": "x-team", "Value": "platform", "IsValueSecret": False},
                            {"Key": "x-token", "Value": "hidden-value", "IsValueSecret": True}]}})
    assert created["ConnectionState"] == "AUTHORIZED"
    described = events.describe_connection(Name="hooks")
    assert described["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}
    assert "very-secret" not in json.dumps(described, default=str)
    assert "hidden-value" not in json.dumps(described, default=str)
    assert described["SecretArn"].startswith(f"arn:aws:secretsmanager:us-east-1:{alice.account_id}:secret:events!")
    with server._open_store().transaction(write=False) as conn:
        stored = conn.exec_driver_sql("SELECT auth_sealed, auth_public FROM event_connections").all()
    assert all("very-secret" not in sealed + public for sealed, public in stored)
    assert error_of(lambda: events.create_connection(
        Name="hooks", AuthorizationType="BASIC",
        AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}}))[0] \
        == "ResourceAlreadyExistsException"
    assert error_of(lambda: events.create_connection(
        Name="mixed", AuthorizationType="BASIC",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}))[0] == "ValidationException"
    dest = events.create_api_destination(Name="hook", ConnectionArn=created["ConnectionArn"],
                                         InvocationEndpoint="https://example.test/hook", HttpMethod="PUT",
                                         InvocationRateLimitPerSecond=5)
    assert dest["ApiDestinationState"] == "ACTIVE"
    assert events.describe_api_destination(Name="hook")["InvocationRateLimitPerSecond"] == 5
    listed = events.list_api_destinations(ConnectionArn=created["ConnectionArn"])["ApiDestinations"]
    assert [d["Name"] for d in listed] == ["hook"]
    assert error_of(lambda: events.create_api_destination(
        Name="hook2", ConnectionArn=created["ConnectionArn"] + "x", InvocationEndpoint="https://example.test/",
        HttpMethod="POST"))[0] == "ResourceNotFoundException"
    events.delete_api_destination(Name="hook")
    assert error_of(lambda: events.describe_api_destination(Name="hook"))[0] == "ResourceNotFoundException"
    assert events.delete_connection(Name="hooks")["ConnectionState"] == "DELETING"
    assert error_of(lambda: events.describe_connection(Name="hooks"))[0] == "ResourceNotFoundException"


def test_events_are_authorized_through_iam(server, alice):
    reader = server.new_user(alice, "reader", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    events = server.client(reader, "events")
    code, message = error_of(lambda: events.put_rule(Name="r", EventPattern=json.dumps({"source": ["a"]})))
    assert code == "AccessDeniedException"
    assert f"events:PutRule on resource: arn:aws:events:us-east-1:{alice.account_id}:rule/r" in message
    assert error_of(lambda: events.put_events(Entries=[{"Source": "my.app", "DetailType": "x", "Detail": "{}"}]))[0] \
        == "AccessDeniedException"
    admin = server.new_user(alice, "admin")
    server.client(alice, "iam").put_user_policy(UserName="admin", PolicyName="rules", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutRule",
                                                "Resource": f"arn:aws:events:us-east-1:{alice.account_id}:rule/r*"}]}))
    server.client(admin, "events").put_rule(Name="r1", EventPattern=json.dumps({"source": ["a"]}))
    assert error_of(lambda: server.client(admin, "events").put_rule(
        Name="x", EventPattern=json.dumps({"source": ["a"]})))[0] == "AccessDeniedException"


def test_put_events_delivers_matching_custom_events(server, alice, receiver):
    events = server.client(alice, "events")
    target = destination(server, alice, receiver.url + "/orders", auth="BASIC")
    rule_to(server, alice, "orders", {"source": ["my.shop"], "detail": {"total": [{"numeric": [">", 100]}]}},
            target, InputTransformer={"InputPathsMap": {"order": "$.detail.id", "total": "$.detail.total"},
                                      "InputTemplate": '{"order": "<order>", "total": <total>, '
                                                       '"rule": "<aws.events.rule-name>"}'},
            HttpParameters={"HeaderParameters": {"x-source": "eventbridge"},
                            "QueryStringParameters": {"channel": "ops"}})
    answer = events.put_events(Entries=[
        {"Source": "my.shop", "DetailType": "order", "Detail": json.dumps({"id": "o-1", "total": 50})},
        {"Source": "my.shop", "DetailType": "order", "Detail": json.dumps({"id": "o-2", "total": 250})},
        {"Source": "my.shop", "DetailType": "order", "Detail": "not json"},
        {"Source": "aws.ec2", "DetailType": "order", "Detail": "{}"},
    ])
    assert answer["FailedEntryCount"] == 2
    assert "EventId" in answer["Entries"][0] and "EventId" in answer["Entries"][1]
    assert answer["Entries"][2]["ErrorCode"] == "MalformedDetail"
    assert answer["Entries"][3]["ErrorCode"] == "NotAuthorizedForSourceException"
    got = receiver.wait_for(lambda r: r.received, "the big order")
    request = got[0]
    assert json.loads(request["body"]) == {"order": "o-2", "total": 250, "rule": "orders"}
    assert request["path"] == "/orders?channel=ops"
    assert request["headers"]["authorization"] == "Basic cm9ib3Q6aHVudGVyMg=="  # robot:hunter2
    assert request["headers"]["x-source"] == "eventbridge"
    # The small order matched no rule: nothing of it was queued, so nothing more comes.
    # Once nothing is left to deliver, everything queued has reached the receiver: only the one event.
    wait_until(lambda: outbox_count(server, alice.account_id) == 0, "the delivery recorded")
    assert len(receiver.received) == 1


def test_ami_state_changes_reach_matching_rules_only(server, alice, receiver):
    ec2 = server.client(alice)
    available = destination(server, alice, receiver.url + "/available")
    failed = destination(server, alice, receiver.url + "/failed")
    rule_to(server, alice, "available", ami_pattern(alice.account_id), available)
    rule_to(server, alice, "failed", ami_pattern(alice.account_id, "failed"), failed)
    image_id = register(ec2, "events-image")
    body = receiver.wait_for(lambda r: r.bodies("/available"), "the available event")[0]
    assert body["source"] == "aws.ec2" and body["detail-type"] == "EC2 AMI State Change"
    assert body["account"] == alice.account_id and body["region"] == "us-east-1"
    assert body["resources"] == [f"arn:aws:ec2:us-east-1::image/{image_id}"]
    assert body["detail"]["ImageId"] == image_id and body["detail"]["State"] == "available"
    assert body["detail"]["ErrorMessage"] == ""
    # The rule on "failed" must not match: it has nothing queued and got nothing.
    assert outbox_count(server, alice.account_id, "failed") == 0
    assert receiver.bodies("/failed") == []
    # Exactly once, though the image is read again and again.
    for _ in range(3):
        ec2.describe_images(ImageIds=[image_id])
    ec2.disable_image(ImageId=image_id)
    server.client(alice, "events").put_rule(Name="available", EventPattern=json.dumps(
        {"source": ["aws.ec2"], "account": [alice.account_id], "detail-type": ["EC2 AMI State Change"]}))
    ec2.enable_image(ImageId=image_id)
    ec2.deregister_image(ImageId=image_id)
    receiver.wait_for(lambda r: len(r.bodies("/available")) >= 3, "enable and deregister")
    states = [b["detail"]["State"] for b in receiver.bodies("/available")]
    assert sorted(states) == ["available", "available", "deregistered"]
    assert sum(1 for b in receiver.bodies("/available") if b["detail"]["ImageId"] == image_id) == 3


def test_dry_runs_and_refused_calls_produce_no_event(server, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "quiet-image")
    # Deliveries to a closed port stay in the outbox, where they can be counted.
    down = destination(server, alice, f"http://127.0.0.1:{free_port()}/")
    rule_to(server, alice, "state-changes", {"source": ["aws.ec2"], "account": [alice.account_id],
                                             "detail-type": ["EC2 AMI State Change"]}, down)
    assert outbox_count(server, alice.account_id) == 0
    assert error_of(lambda: ec2.disable_image(ImageId=image_id, DryRun=True))[0] == "DryRunOperation"
    assert error_of(lambda: ec2.deregister_image(ImageId=image_id, DryRun=True))[0] == "DryRunOperation"
    assert error_of(lambda: ec2.register_image(
        Name="dry", RootDeviceName="/dev/xvda", DryRun=True,
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_of_new_volume(ec2)}}]))[0] \
        == "DryRunOperation"
    reader = server.new_user(alice, "reader", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    assert error_of(lambda: server.client(reader).deregister_image(ImageId=image_id))[0] == "UnauthorizedOperation"
    assert error_of(lambda: server.client(reader).disable_image(ImageId=image_id))[0] == "UnauthorizedOperation"
    time.sleep(0.3)  # let the settler run over anything pending (nothing is)
    assert outbox_count(server, alice.account_id) == 0
    ec2.disable_image(ImageId=image_id)
    assert outbox_count(server, alice.account_id) == 1


def test_cloudtrail_records_of_write_calls_become_events(server, alice, receiver):
    """The trail's listener, given CloudTrail records as the audit trail stores them."""
    from amishare.domain.events import cloudtrail_listener

    target = destination(server, alice, receiver.url + "/trail")
    rule_to(server, alice, "refused-sharing", {
        "source": ["aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventName": ["ModifyImageAttribute"], "errorCode": [{"exists": True}]}}, target)
    record = {"eventVersion": "1.10", "eventTime": "2026-12-01T06:00:00Z", "eventSource": "ec2.amazonaws.com",
              "eventName": "ModifyImageAttribute", "awsRegion": "us-east-1", "sourceIPAddress": "127.0.0.1",
              "userAgent": "boto3", "userIdentity": {"type": "IAMUser", "accountId": alice.account_id},
              "requestParameters": {"imageId": "ami-0123456789abcdef0"}, "errorCode": "Client.UnauthorizedOperation",
              "errorMessage": "You are not authorized to perform this operation.", "requestID": "r-1",
              "eventID": "e-1", "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
              "recipientAccountId": alice.account_id}
    with server._open_store().transaction() as conn:
        cloudtrail_listener(conn, dict(record, eventName="DescribeImages", readOnly=True))  # reads: no event
        succeeded = {k: v for k, v in record.items() if k not in ("errorCode", "errorMessage")}
        cloudtrail_listener(conn, dict(succeeded, eventID="e-0"))  # a call that succeeded: no errorCode
        cloudtrail_listener(conn, record)
    body = receiver.wait_for(lambda r: r.bodies("/trail"), "the refused call's event")[0]
    assert body["detail-type"] == "AWS API Call via CloudTrail" and body["source"] == "aws.ec2"
    assert body["account"] == alice.account_id and body["region"] == "us-east-1"
    assert body["time"] == "2026-12-01T06:00:00Z"
    assert body["detail"] == record
    # Once nothing is left to deliver, everything queued has reached the receiver: only the one event.
    wait_until(lambda: outbox_count(server, alice.account_id) == 0, "the delivery recorded")
    assert len(receiver.received) == 1


def test_a_refused_call_reaches_a_rule_on_its_cloudtrail_event(server, alice, receiver):
    """End to end: the audit trail's record of a refused ModifyImageAttribute becomes an
    `AWS API Call via CloudTrail` event with its errorCode; reads and other calls don't match."""
    ec2 = server.client(alice)
    image_id = register(ec2, "watched-image")
    target = destination(server, alice, receiver.url + "/refused")
    rule_to(server, alice, "refused-sharing", {
        "source": ["aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventName": ["ModifyImageAttribute"], "errorCode": [{"exists": True}]}}, target)
    reader = server.new_user(alice, "watched-reader", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    ec2.describe_images(ImageIds=[image_id])
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "123456789012"}]})
    assert error_of(lambda: server.client(reader).modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]}))[0] == "UnauthorizedOperation"
    body = receiver.wait_for(lambda r: r.bodies("/refused"), "the refused call's event")[0]
    assert body["detail-type"] == "AWS API Call via CloudTrail" and body["account"] == alice.account_id
    assert body["detail"]["eventName"] == "ModifyImageAttribute"
    assert body["detail"]["errorCode"] == "Client.UnauthorizedOperation"
    assert body["detail"]["userIdentity"]["type"] == "IAMUser"
    wait_until(lambda: outbox_count(server, alice.account_id) == 0, "the delivery recorded")
    assert len(receiver.bodies("/refused")) == 1


def test_a_due_transition_is_announced_once_whoever_settles_it(backend, tmp_path_factory):
    """Reads settle an image's state without writing; a call that replaces the state of an image
    whose transition came due writes (and announces) the transition first, once. The settler is
    kept idle here (a poll interval of an hour) so the call is the one to settle it."""
    srv, cleanup = events_server(backend, tmp_path_factory.mktemp(f"settle-{backend}"),
                                 AMISHARE_EVENT_DELIVERY="off", AMISHARE_EVENT_POLL_INTERVAL="3600")
    srv.start(state_delay=1.0)
    try:
        alice = srv.new_account()
        rule_to(srv, alice, "all", {"source": ["aws.ec2"], "account": [alice.account_id],
                                   "detail-type": ["EC2 AMI State Change"]},
                destination(srv, alice, f"http://127.0.0.1:{free_port()}/"))
        ec2 = srv.client(alice)
        image_id = register(ec2, "slow-image")  # waits until DescribeImages shows it available
        for _ in range(3):
            assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"
        assert outbox_events(srv, alice.account_id) == []  # reading wrote nothing
        ec2.disable_image(ImageId=image_id)
        ec2.enable_image(ImageId=image_id)
        states = [(e["detail"]["ImageId"], e["detail"]["State"]) for e in outbox_events(srv, alice.account_id)]
        assert states == [(image_id, "available"), (image_id, "disabled"), (image_id, "available")]
    finally:
        srv.stop()
        cleanup()
