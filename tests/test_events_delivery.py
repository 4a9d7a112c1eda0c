"""Delivering events to API destinations: at least once, through a receiver that is down
for a while, across a kill -9 of the server between commit and delivery, with retry
policies and dead letters; and the automation of seed 003 end to end (an AMI becomes
available, a rule calls a receiver, the receiver shares the AMI with another account)."""

import json
import time

import pytest

from events_support import ami_pattern, destination, events_server, outbox_count, rule_to
from receiver import Receiver, wait_until
from test_images import register


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    # Two server processes, each with its delivery workers, share the outbox.
    srv, cleanup = events_server(backend, tmp_path_factory.mktemp(f"delivery-{backend}"), workers=2)
    srv.start()
    yield srv
    srv.stop()
    cleanup()


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def dead_letter_count(server, account) -> int:
    from sqlalchemy import func, select

    from amishare.store.schema import event_dead_letters as t

    with server._open_store().transaction(write=False) as conn:
        return conn.execute(select(func.count()).select_from(t).where(t.c.account_id == account.account_id)).scalar_one()


def dead_letters(server, account):
    """`amishare events dead-letters`, as an operator lists them."""
    out = server.cli("events", "dead-letters", "--db", server.db_url, "--account", account.account_id,
                     "--region", "us-east-1")
    return json.loads(out)["DeadLetters"]


def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(server):
    alice = server.new_account()
    receiver = Receiver()  # its port is chosen, but nothing listens there yet
    target = destination(server, alice, receiver.url + "/hook")
    rule_to(server, alice, "ready", ami_pattern(alice.account_id), target)
    image_id = register(server.client(alice), "while-down")
    # The delivery is tried and fails (connection refused), and stays queued for its retries.
    wait_until(lambda: _attempts(server, alice.account_id) >= 2, "failed tries recorded")
    receiver.start()
    try:
        body = receiver.wait_for(lambda r: r.bodies("/hook"), "the event after coming back")[0]
        assert receiver.received[0]["headers"]["x-api-key"] == "s3cret-key"
        assert receiver.received[0]["headers"]["content-type"] == "application/json; charset=utf-8"
        assert body["detail"] == {"RequestId": body["detail"]["RequestId"], "ImageId": image_id,
                                  "State": "available", "ErrorMessage": ""}
        wait_until(lambda: outbox_count(server, alice.account_id) == 0, "the delivery recorded")
        assert dead_letters(server, alice) == []
    finally:
        receiver.stop()


def _attempts(server, account_id) -> int:
    from sqlalchemy import func, select

    from amishare.store.schema import event_outbox as t

    with server._open_store().transaction(write=False) as conn:
        return conn.execute(select(func.coalesce(func.max(t.c.attempts), 0))
                            .where(t.c.account_id == account_id)).scalar_one()


def test_two_server_processes_deliver_each_event_once(server, receiver):
    alice = server.new_account()
    rule_to(server, alice, "all", {"source": ["my.app"]}, destination(server, alice, receiver.url + "/once"))
    events = server.client(alice, "events")
    sent = []
    for batch in range(3):
        entries = [{"Source": "my.app", "DetailType": "n", "Detail": json.dumps({"n": batch * 10 + i})}
                   for i in range(10)]
        sent += [e["EventId"] for e in events.put_events(Entries=entries)["Entries"]]
    wait_until(lambda: outbox_count(server, alice.account_id) == 0, "every delivery recorded")
    received = [b["id"] for b in receiver.bodies("/once")]
    assert sorted(received) == sorted(sent)  # each once: leases keep the two processes apart


def test_retry_policy_and_dead_letters(server, receiver):
    alice = server.new_account()
    receiver.status = 503
    target = destination(server, alice, receiver.url + "/busy")
    dlq = f"arn:aws:sqs:us-east-1:{alice.account_id}:ami-events-dlq"
    rule_to(server, alice, "busy", {"source": ["my.app"], "detail-type": ["retry"]}, target,
            RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}, DeadLetterConfig={"Arn": dlq})
    rule_to(server, alice, "refused", {"source": ["my.app"], "detail-type": ["refused"]},
            destination(server, alice, receiver.url + "/refused"))
    events = server.client(alice, "events")
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "retry", "Detail": json.dumps({"n": 1})}])
    wait_until(lambda: dead_letter_count(server, alice) == 1, "the dead letter")
    letters = dead_letters(server, alice)
    assert len(receiver.bodies("/busy")) == 3  # the first try and two retries
    letter = letters[0]
    assert letter["Rule"] == "busy" and letter["TargetArn"] == target and letter["DeadLetterArn"] == dlq
    assert letter["ErrorCode"] == "HTTP_503" and letter["Attempts"] == 3
    assert "MaximumRetryAttempts" in letter["ErrorMessage"]
    assert json.loads(letter["Body"])["detail"] == {"n": 1}
    # A 400 is the endpoint refusing the event: not retried.
    receiver.status = 400
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "refused", "Detail": "{}"}])
    wait_until(lambda: dead_letter_count(server, alice) == 2, "the refused event's dead letter")
    refused = dead_letters(server, alice)[1]
    assert refused["ErrorCode"] == "HTTP_400" and refused["Attempts"] == 1 and refused["DeadLetterArn"] is None
    assert len(receiver.bodies("/refused")) == 1
    # Nor is a redirect followed or retried.
    receiver.status = 302
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "refused", "Detail": "{}"}])
    wait_until(lambda: dead_letter_count(server, alice) == 3, "the redirected event's dead letter")
    assert dead_letters(server, alice)[2]["ErrorCode"] == "HTTP_302"
    assert len(receiver.bodies("/refused")) == 2
    assert outbox_count(server, alice.account_id) == 0
    # Dead letters are kept 14 days, as an SQS dead-letter queue keeps them at most.
    from amishare.domain.event_delivery import purge_dead_letters

    with server._open_store().transaction() as conn:
        purge_dead_letters(conn, time.time() + 13 * 86400, 14)
    assert dead_letter_count(server, alice) == 3
    with server._open_store().transaction() as conn:
        purge_dead_letters(conn, time.time() + 15 * 86400, 14)
    assert dead_letter_count(server, alice) == 0


def test_kill_9_between_commit_and_delivery_loses_no_event(backend, tmp_path_factory):
    """Events committed while no worker delivers wait in the outbox for the next server; a server
    killed while a delivery is under way (the receiver holds the request) delivers it again
    once restarted, after its lease lapses."""
    srv, cleanup = events_server(backend, tmp_path_factory.mktemp(f"kill-{backend}"), AMISHARE_EVENT_DELIVERY="off")
    receiver = Receiver().start()
    srv.start()
    try:
        alice = srv.new_account()
        rule_to(srv, alice, "ready", ami_pattern(alice.account_id), destination(srv, alice, receiver.url + "/k"))
        image_id = register(srv.client(alice), "before-the-crash")
        # The settler still runs: the image's pending state settles and its event is queued.
        wait_until(lambda: outbox_count(srv, alice.account_id) == 1, "the event queued")
        srv.stop(kill=True)
        assert receiver.received == []
        # Delivering again, the receiver holding the request: killed between commit and acknowledgement.
        receiver.hang.set()
        srv.env["AMISHARE_EVENT_DELIVERY"] = "on"
        srv.start()
        receiver.wait_for(lambda r: r.received, "the first try")
        srv.stop(kill=True)
        assert outbox_count(srv, alice.account_id) == 1  # committed, not delivered
        receiver.hang.clear()
        receiver.released.set()
        srv.start()
        bodies = receiver.wait_for(lambda r: len(r.bodies("/k")) >= 2 and r.bodies("/k"), "the event after restart")
        assert {b["detail"]["ImageId"] for b in bodies} == {image_id}
        assert all(b["detail"]["State"] == "available" for b in bodies)
        wait_until(lambda: outbox_count(srv, alice.account_id) == 0, "the delivery recorded")
    finally:
        srv.stop()
        receiver.stop()
        cleanup()


def test_seed_003_sharing_automation(server, receiver):
    """An AMI becomes available; a rule on EC2 AMI State Change calls the automation's endpoint,
    which shares the AMI with the accounts that should have it; they then see it."""
    builder, consumer = server.new_account(), server.new_account()
    builder_ec2 = server.client(builder)

    def share(event):
        image_id = event["detail"]["ImageId"]
        builder_ec2.modify_image_attribute(ImageId=image_id,
                                           LaunchPermission={"Add": [{"UserId": consumer.account_id}]})

    receiver.react = share
    target = destination(server, builder, receiver.url + "/share")
    rule_to(server, builder, "share-new-amis", ami_pattern(builder.account_id), target,
            InputTransformer={"InputPathsMap": {"image": "$.detail.ImageId", "state": "$.detail.State"},
                              "InputTemplate": '{"detail": {"ImageId": "<image>", "State": "<state>"}}'})
    image_id = register(builder_ec2, "golden-2026")
    consumer_ec2 = server.client(consumer)
    seen = wait_until(lambda: consumer_ec2.describe_images(ExecutableUsers=["self"])["Images"],
                      "the shared image in the consumer's account")
    assert [i["ImageId"] for i in seen] == [image_id]
    permissions = builder_ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert permissions["LaunchPermissions"] == [{"UserId": consumer.account_id}]


def test_oauth_client_credentials_connections(server, receiver):
    alice = server.new_account()
    receiver.responses["/token"] = {"access_token": "token-1", "token_type": "Bearer", "expires_in": 3600}
    events = server.client(alice, "events")
    connection = events.create_connection(
        Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": "automation", "ClientSecret": "client-secret"},
            "AuthorizationEndpoint": receiver.url + "/token", "HttpMethod": "POST",
            "OAuthHttpParameters": {"BodyParameters": [{"Key": "scope", "Value": "share", "IsValueSecret": False}]}}})
    described = events.describe_connection(Name="oauth")["AuthParameters"]["OAuthParameters"]
    assert described["ClientParameters"] == {"ClientID": "automation"}
    target = events.create_api_destination(Name="oauth-hook", ConnectionArn=connection["ConnectionArn"],
                                           InvocationEndpoint=receiver.url + "/hook/*", HttpMethod="POST",
                                           InvocationRateLimitPerSecond=10)["ApiDestinationArn"]
    rule_to(server, alice, "custom", {"source": ["my.app"]}, target, Input='{"hello": "world"}',
            HttpParameters={"PathParameterValues": ["images"]})
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "x", "Detail": "{}"}])
    hook = receiver.wait_for(lambda r: [q for q in r.received if q["path"] == "/hook/images"], "the event")[0]
    assert hook["headers"]["authorization"] == "Bearer token-1"
    assert json.loads(hook["body"]) == {"hello": "world"}
    token = [q for q in receiver.received if q["path"] == "/token"][0]
    assert token["headers"]["authorization"] == "Basic YXV0b21hdGlvbjpjbGllbnQtc2VjcmV0"  # automation:client-secret
    assert "grant_type=client_credentials" in token["body"] and "scope=share" in token["body"]
