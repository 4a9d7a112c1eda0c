"""The policy engine on its own: effects, principals, actions and conditions."""

import pytest

from amishare.domain import policy

ORG_STATEMENT = {
    "Sid": "Allow access for Org Admin", "Effect": "Allow", "Principal": "*",
    "Action": ["kms:Describe*", "kms:List*", "kms:Get*"], "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123example"}},
}
OU_STATEMENT = {
    "Sid": "Allow access for specific OUs and their descendants", "Effect": "Allow", "Principal": "*",
    "Action": ["kms:Describe*", "kms:List*", "kms:Get*"], "Resource": "*",
    "Condition": {
        "StringEquals": {"aws:PrincipalOrgID": "o-123example"},
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [
            "o-123example/r-ab12/ou-ab12-33333333/*", "o-123example/r-ab12/ou-ab12-22222222/*"]},
    },
}


def request(account="111122223333", action="kms:DescribeKey", org=None, path=None):
    context = {"aws:principalaccount": [account]}
    if org:
        context["aws:principalorgid"] = [org]
    if path:
        context["aws:principalorgpaths"] = [path]
    return policy.Request(account, action, "arn:aws:kms:us-east-1:999999999999:key/k", context)


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_org_statement():
    d = doc(ORG_STATEMENT)
    assert policy.evaluate(d, request(org="o-123example")) == policy.ALLOW
    assert policy.evaluate(d, request(org="o-other")) == policy.NOT_APPLICABLE
    assert policy.evaluate(d, request()) == policy.NOT_APPLICABLE
    assert policy.evaluate(d, request(org="o-123example", action="kms:Decrypt")) == policy.NOT_APPLICABLE


def test_ou_paths_statement():
    d = doc(OU_STATEMENT)
    inside = "o-123example/r-ab12/ou-ab12-33333333/ou-ab12-44444444/"
    assert policy.evaluate(d, request(org="o-123example", path=inside)) == policy.ALLOW
    assert policy.evaluate(d, request(org="o-123example", path="o-123example/r-ab12/ou-ab12-22222222/")) == policy.ALLOW
    assert policy.evaluate(d, request(org="o-123example", path="o-123example/r-ab12/ou-ab12-11111111/")) == policy.NOT_APPLICABLE
    assert policy.evaluate(d, request(org="o-123example", path="o-123example/r-ab12/")) == policy.NOT_APPLICABLE


def test_principals_and_explicit_deny():
    allow_account = {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]},
                     "Action": "kms:*", "Resource": "*"}
    assert policy.evaluate(doc(allow_account), request()) == policy.ALLOW
    assert policy.evaluate(doc(allow_account), request(account="444455556666")) == policy.ALLOW
    assert policy.evaluate(doc(allow_account), request(account="777777777777")) == policy.NOT_APPLICABLE
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "999999999999"}}}
    assert policy.evaluate(doc(allow_account, deny), request(action="kms:Decrypt")) == policy.DENY
    assert policy.evaluate(doc(allow_account, deny), request(action="kms:DescribeKey")) == policy.ALLOW
    assert policy.evaluate(doc(allow_account, deny), request(account="999999999999", action="kms:Decrypt")) == policy.NOT_APPLICABLE


def test_condition_operators():
    def with_condition(condition):
        return doc({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": condition})

    assert policy.evaluate(with_condition({"StringLike": {"aws:PrincipalAccount": "1111*"}}), request()) == policy.ALLOW
    assert policy.evaluate(with_condition({"StringNotLike": {"aws:PrincipalAccount": "1111*"}}), request()) == policy.NOT_APPLICABLE
    assert policy.evaluate(with_condition({"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": ["x"]}}), request()) == policy.ALLOW
    assert policy.evaluate(with_condition({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}), request()) == policy.ALLOW
    assert policy.evaluate(with_condition({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}), request()) == policy.NOT_APPLICABLE
    assert policy.evaluate(with_condition({"Null": {"aws:PrincipalOrgID": "true"}}), request()) == policy.ALLOW


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "kms:*"}]}',
    '{"Statement": [{"Effect": "Allow", "Action": "kms:*"}]}',
    '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Condition": {"NumericWeird": {}}}]}',
    '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "kms:*"}]}',
])
def test_malformed_policies(text):
    with pytest.raises(policy.MalformedPolicy):
        policy.parse(text)
