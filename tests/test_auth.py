"""Every request is SigV4-verified against the signing account's secret."""

import datetime as dt
import re
import urllib.request
from urllib.error import HTTPError

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from support import Account


def _error(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def test_caller_identity(server, alice, bob):
    for account in (alice, bob):
        identity = server.client(account, "sts").get_caller_identity()
        assert identity["Account"] == account.account_id
        assert identity["Arn"] == f"arn:aws:iam::{account.account_id}:root"
        assert identity["UserId"]


def test_unknown_key_is_refused(server, alice):
    stranger = Account("000000000000", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    err = _error(lambda: server.client(stranger).describe_images(Owners=["self"]))
    assert err["Error"]["Code"] == "AuthFailure"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 401
    err = _error(lambda: server.client(stranger, "sts").get_caller_identity())
    assert err["Error"]["Code"] == "InvalidClientTokenId"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_secret_is_refused(server, alice):
    forged = Account(alice.account_id, alice.access_key_id, "x" * 40)
    err = _error(lambda: server.client(forged).describe_images(Owners=["self"]))
    assert err["Error"]["Code"] == "AuthFailure"
    err = _error(lambda: server.client(forged, "sts").get_caller_identity())
    assert err["Error"]["Code"] == "SignatureDoesNotMatch"


def test_unknown_region_is_refused(server, alice):
    err = _error(lambda: server.client(alice, region="mars-north-1").describe_images(Owners=["self"]))
    assert err["Error"]["Code"] == "AuthFailure"
    assert "valid region" in err["Error"]["Message"]


def _signed_request(server, account, body, when=None, region="us-east-1", service="ec2"):
    creds = botocore.credentials.Credentials(account.access_key_id, account.secret_access_key)
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    signer = botocore.auth.SigV4Auth(creds, service, region)
    if when is not None:
        real = botocore.auth.datetime.datetime

        class Frozen(real):
            @classmethod
            def utcnow(cls):
                return when.replace(tzinfo=None)

            @classmethod
            def now(cls, tz=None):
                return when if tz else when.replace(tzinfo=None)

        botocore.auth.datetime.datetime = Frozen
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.datetime.datetime = real
    else:
        signer.add_auth(request)
    prepared = request.prepare()
    data = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    req = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read().decode(), resp.headers
    except HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def test_clock_skew_over_15_minutes_is_refused(server, alice):
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20)
    status, body, _ = _signed_request(server, alice, "Action=DescribeImages&Version=2016-11-15&Owner.1=self", when=old)
    assert status == 400 and "<Code>RequestExpired</Code>" in body
    # The message says the times as AWS does: "Signature expired: 20250101T000000Z is now earlier
    # than 20250101T000500Z (20250101T002000Z - 15 min.)".
    message = re.search(r"<Message>(.*)</Message>", body).group(1)
    assert re.fullmatch(r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z "
                        r"\(\d{8}T\d{6}Z - 15 min\.\)", message), message
    recent = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    status, body, _ = _signed_request(server, alice, "Action=DescribeImages&Version=2016-11-15&Owner.1=self", when=recent)
    assert status == 200, body


def test_tampered_body_is_refused(server, alice):
    creds = botocore.credentials.Credentials(alice.access_key_id, alice.secret_access_key)
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/",
                                             data="Action=DescribeImages&Version=2016-11-15&Owner.1=self",
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    botocore.auth.SigV4Auth(creds, "ec2", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = dict(prepared.headers)
    headers.pop("X-Amz-Content-SHA256", None)
    req = urllib.request.Request(prepared.url, data=b"Action=DescribeImages&Version=2016-11-15&Owner.1=amazon",
                                 headers=headers, method="POST")
    with pytest.raises(HTTPError) as exc:
        urllib.request.urlopen(req)
    assert exc.value.code == 401
    assert "<Code>AuthFailure</Code>" in exc.value.read().decode()


def test_missing_authentication(server):
    req = urllib.request.Request(server.endpoint + "/", data=b"Action=DescribeImages&Version=2016-11-15",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}, method="POST")
    with pytest.raises(HTTPError) as exc:
        urllib.request.urlopen(req)
    body = exc.value.read().decode()
    assert "<Code>MissingAuthenticationToken</Code>" in body
    assert "<RequestID>" in body
    assert exc.value.headers["Date"]


def test_presigned_get_request(server, alice):
    creds = botocore.credentials.Credentials(alice.access_key_id, alice.secret_access_key)
    request = botocore.awsrequest.AWSRequest(
        method="GET", url=server.endpoint + "/?Action=DescribeImages&Version=2016-11-15&Owner.1=amazon"
    )
    botocore.auth.SigV4QueryAuth(creds, "ec2", "us-east-1", expires=300).add_auth(request)
    with urllib.request.urlopen(request.prepare().url) as resp:
        body = resp.read().decode()
    assert resp.status == 200
    assert "<imagesSet>" in body and "al2023-ami" in body
    tampered = request.prepare().url.replace("Owner.1=amazon", "Owner.1=self")
    with pytest.raises(HTTPError) as exc:
        urllib.request.urlopen(tampered)
    assert exc.value.code == 401


def test_signed_get_with_header_auth(server, alice):
    creds = botocore.credentials.Credentials(alice.access_key_id, alice.secret_access_key)
    request = botocore.awsrequest.AWSRequest(
        method="GET", url=server.endpoint + "/?Action=DescribeImages&Version=2016-11-15&Owner.1=self"
    )
    botocore.auth.SigV4Auth(creds, "ec2", "us-east-1").add_auth(request)
    prepared = request.prepare()
    with urllib.request.urlopen(urllib.request.Request(prepared.url, headers=dict(prepared.headers))) as resp:
        assert resp.status == 200
        assert "<imagesSet/>" in resp.read().decode()


def test_unknown_action(server, alice):
    status, body, headers = _signed_request(server, alice, "Action=FlyToTheMoon&Version=2016-11-15")
    assert status == 400
    assert "<Code>InvalidAction</Code>" in body
    assert headers["Date"]


def test_unknown_parameter(server, alice):
    status, body, _ = _signed_request(server, alice, "Action=DescribeImages&Version=2016-11-15&Bogus=1")
    assert status == 400 and "<Code>UnknownParameter</Code>" in body


def test_dry_run(server, alice):
    ec2 = server.client(alice)
    err = _error(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, DryRun=True))
    assert err["Error"]["Code"] == "DryRunOperation"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert ec2.describe_volumes()["Volumes"] == []
    err = _error(lambda: ec2.create_volume(AvailabilityZone="us-west-2a", Size=1, DryRun=True))
    assert err["Error"]["Code"] == "InvalidParameterValue"
