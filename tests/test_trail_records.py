"""The audit trail writes each record's JSON from pieces it remembers across calls; what it
writes must be exactly the JSON of the record itself, for every kind of caller and outcome."""

import json
import uuid

from amishare.application import trail
from amishare.application.call import Call, Outcome
from amishare.domain.principal import Principal
from amishare.errors import AwsError
from amishare.services import load_all, lookup

load_all()

ACCOUNT, OWNER = "111122223333", "444455556666"
ROOT = Principal.root(ACCOUNT, "AKIAIOSFODNN7EXAMPLE")
USER = Principal(ACCOUNT, "user", f"arn:aws:iam::{ACCOUNT}:user/ops/ana", "AIDAEXAMPLEUSERID0001", "ana",
                 access_key_id="AKIAEXAMPLEUSERKEY01")
SESSION = Principal(ACCOUNT, "assumed-role", f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/ci-ünïcode",
                    "AROAEXAMPLEROLEID0001:ci-ünïcode", "builder", session_name="ci-ünïcode",
                    access_key_id="ASIAEXAMPLESESSION01", issuer_arn=f"arn:aws:iam::{ACCOUNT}:role/team/builder",
                    session_created_at=1_700_000_000.25)


def _json(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), default=str)


def _entry(principal, operation, params, result=None, error=None, user_agent="Boto3/1.40.0 ünï \"quoted\"",
           source_ip="10.0.0.7", dry_run=False, at=1_764_570_000.75):
    call = Call(principal, "eu-west-1", "ec2", operation, params, dry_run=dry_run, source_ip=source_ip,
                user_agent=user_agent)
    outcome = Outcome(result=result, error=error, started_at=at - 0.01, finished_at=at)
    return call, outcome, trail.build(call, lookup("ec2", operation), outcome)


def test_the_written_text_is_the_records_json_for_every_caller_and_outcome():
    cases = [
        (ROOT, "DescribeImages", {"ImageIds": ["ami-0123456789abcdef0"]}, {"Images": []}, None),
        (USER, "ModifyImageAttribute", {"ImageId": "ami-0123456789abcdef0", "LaunchPermission": {
            "Add": [{"UserId": OWNER}]}}, None, AwsError("UnauthorizedOperation", "You are not authorized…")),
        (SESSION, "CreateTags", {"Resources": ["ami-0123456789abcdef0"], "Tags": [{"Key": "k", "Value": "v"}]},
         {}, None),
        (SESSION, "RegisterImage", {"Name": "n", "RootDeviceName": "/dev/xvda"}, {"ImageId": "ami-0fedcba987654321"},
         None),
        (ROOT, "RunInstances", {"ImageId": "ami-0123456789abcdef0", "MinCount": 1, "MaxCount": 1,
                                "UserData": "c2VjcmV0"}, None, AwsError("InternalError", "boom", 500, sender=False)),
    ]
    for repeat in range(2):  # the second time from the remembered pieces
        for principal, operation, params, result, error in cases:
            for user_agent, source_ip in (("Boto3/1.40.0 ünï \"quoted\"", "10.0.0.7"), (None, None)):
                _call, _outcome, entry = _entry(principal, operation, params, result, error, user_agent, source_ip)
                assert trail.serialize_entry(entry) == _json(entry.record), (repeat, operation, principal.kind)
                assert uuid.UUID(entry.event_id).version == 4
                assert entry.record["eventTime"] == "2025-12-01T06:20:00Z"


def test_a_record_is_its_own_and_an_owners_copy_is_written_as_its_json():
    _call, _outcome, first = _entry(SESSION, "RunInstances", {"ImageId": "ami-0123456789abcdef0", "MinCount": 1,
                                                               "MaxCount": 1}, {"Instances": []})
    first.record["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] = "changed"
    _call, _outcome, second = _entry(SESSION, "RunInstances", {"ImageId": "ami-0123456789abcdef0", "MinCount": 1,
                                                                "MaxCount": 1}, {"Instances": []})
    assert second.record["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert trail.serialize_entry(second) == _json(second.record)

    copy = trail.owner_copy(second, OWNER, ("AWS::EC2::Image", "ami-0123456789abcdef0"))
    assert second.record["sharedEventID"] == copy.record["sharedEventID"]
    assert trail.serialize_entry(second) == _json(second.record)
    assert trail.serialize_entry(copy) == _json(copy.record)
    assert copy.record["userIdentity"] == {"type": "AWSAccount", "principalId": SESSION.unique_id,
                                           "accountId": ACCOUNT}


def test_an_oversized_record_loses_its_elements_as_before():
    tags = [{"Key": f"k{i}", "Value": "v" * 250} for i in range(600)]
    _call, _outcome, entry = _entry(ROOT, "CreateTags", {"Resources": ["ami-0123456789abcdef0"], "Tags": tags}, {})
    text = trail.serialize_entry(entry)
    assert len(text) <= trail.MAX_RECORD_BYTES
    assert entry.record["requestParameters"] is None and entry.record["responseElements"] is None
    assert text == _json(entry.record)


def test_event_times_across_seconds_and_before_1970():
    assert [trail.iso_time(t) for t in (0.5, 0.9, 1.0, -0.5, -0.5, 59.999, 60)] == [
        "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z", "1969-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z", "1970-01-01T00:00:59Z", "1970-01-01T00:01:00Z"]
