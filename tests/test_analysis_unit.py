"""The chain an explanation is made of, at unit level: the statements `authz.decide` reports
when asked to explain (by Sid, with grants and SCPs) never change its verdict, and `trace`
runs the same checks for enforcement and explanation."""

import json

import pytest

from amishare.domain import authz, policy, trace
from amishare.domain.principal import Principal
from amishare.errors import AwsError

OWNER, OTHER = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/k"


def key_policy(*statements):
    return policy.parse(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*",
         "Resource": "*"}, *statements]}))


def decide(document, action="kms:Decrypt", grants=(), levels=None, explain=True):
    target = authz.Target(action, KEY, OWNER, document, True, bool(grants))
    context = {"aws:principalaccount": [OTHER]}
    return authz.decide(None, Principal.root(OTHER), target, context, levels, explain, tuple(grants))


def test_the_key_policy_statement_that_allows_is_named_by_its_sid():
    document = key_policy({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "kms:Decrypt",
                           "Resource": "*"})
    made = decide(document)
    assert made.allowed
    assert {"PolicyType": authz.RESOURCE, "PolicyId": KEY, "Sid": "Partner", "Effect": "Allow"} in made.because
    assert not any(s["Sid"] == "Owner" for s in made.because)  # it names another account


def test_a_deny_is_reported_and_explaining_never_changes_the_verdict():
    document = key_policy(
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "kms:Decrypt", "Resource": "*"})
    made = decide(document)
    assert not made.allowed and made.explicit_deny
    assert {s["Sid"] for s in made.because if s["PolicyType"] == authz.RESOURCE} == {"Partner", "NoDecrypt"}
    for action in ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"):
        quiet, told = decide(document, action, explain=False), decide(document, action)
        assert (quiet.allowed, quiet.explicit_deny, quiet.because) == (told.allowed, told.explicit_deny, [])


def test_a_grant_that_allows_is_reported_by_its_id():
    made = decide(key_policy(), grants=("grant-1",))
    assert made.allowed
    assert {"PolicyType": "grant", "PolicyId": "grant-1", "Sid": "", "Effect": "Allow"} in made.because
    assert not decide(key_policy()).allowed


def test_scp_statements_are_reported():
    deny = {"Sid": "NoKms", "Effect": "Deny", "Action": "kms:*", "Resource": "*"}
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    levels = [[("p-full", {"Statement": [allow]})], [("p-deny", {"Statement": [deny]})]]
    document = key_policy({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "kms:*",
                           "Resource": "*"})
    made = decide(document, levels=levels)
    assert not made.allowed and made.decided_by == authz.SCP
    assert {"PolicyType": authz.SCP, "PolicyId": "p-deny", "Sid": "NoKms", "Effect": "Deny"} in made.because


class _Ctx:
    def __init__(self):
        self.memo = {}


def _refuse():
    raise AwsError("OperationNotPermitted", "no")


def test_enforcement_stops_at_the_first_failure_and_explanation_notes_every_check():
    ran = []
    checks = [("one", "first holds", lambda: ran.append(1) or "read"), ("two", "second holds", _refuse),
              ("three", "third holds", lambda: ran.append(3))]
    with pytest.raises(AwsError):
        trace.enforce(checks)
    assert ran == [1]
    ctx = _Ctx()
    record = trace.start(ctx)
    assert trace.explain(ctx, checks) is False
    assert [(s["Step"], s["Decision"]) for s in record] == [("one", "allowed"), ("two", "denied"), ("three", "allowed")]
    assert record[1]["ErrorCode"] == "OperationNotPermitted"
    assert trace.enforce(checks[:1]) == {"one": "read"}
    quiet = _Ctx()
    trace.note(quiet, "x", trace.ALLOWED)  # nothing is recorded unless a record is open
    assert quiet.memo == {}
