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


def _statement(**overrides):
    statement = {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    statement.update(overrides)
    return {key: value for key, value in statement.items() if value is not None}


@pytest.mark.parametrize("document", [
    {"Statement": []},
    {"Statement": _statement(), "Extra": 1},
    {"Version": "2020-01-01", "Statement": _statement()},
    {"Id": 5, "Statement": _statement()},
    {"Statement": [_statement(Sid=5)]},
    {"Statement": [_statement(Unknown="x")]},
    {"Statement": [_statement(Resource=5)]},
    {"Statement": [_statement(Resource=[])]},
    {"Statement": [_statement(Resource="bucket")]},
    {"Statement": [_statement(Resource=None)]},
    {"Statement": [_statement(NotResource="*")]},
    {"Statement": [_statement(Action=None)]},
    {"Statement": [_statement(NotAction="kms:Decrypt")]},
    {"Statement": [_statement(Action=["kms:Decrypt", 7])]},
    {"Statement": [_statement(Action="kms:Decrypt Encrypt")]},
    {"Statement": [_statement(Principal={})]},
    {"Statement": [_statement(Principal={"AWS": []})]},
    {"Statement": [_statement(Principal={"Robot": "x"})]},
    {"Statement": [_statement(Principal="123456789012")]},
    {"Statement": [_statement(NotPrincipal="*")]},
    {"Statement": [_statement(Condition=[1])]},
    {"Statement": [_statement(Condition={})]},
    {"Statement": [_statement(Condition={"Null": []})]},
    {"Statement": [_statement(Condition={"Null": {"aws:PrincipalOrgID": []}})]},
    {"Statement": [_statement(Condition={"Null": {"aws:PrincipalOrgID": "maybe"}})]},
    {"Statement": [_statement(Condition={"NullIfExists": {"aws:PrincipalOrgID": "true"}})]},
    {"Statement": [_statement(Condition={"StringEquals": {"aws:PrincipalOrgID": {"nested": "x"}}})]},
    {"Statement": [_statement(Condition={"StringEquals": {"aws:PrincipalOrgID": [["x"]]}})]},
    {"Statement": [_statement(Condition={"StringEquals": {"aws:PrincipalOrgID": None}})]},
    {"Statement": [_statement(Condition={"StringEquals": {"": "x"}})]},
    {"Statement": [_statement(Condition={"NumericLessThan": {"kms:x": "ten"}})]},
    {"Statement": [_statement(Condition={"DateLessThan": {"aws:CurrentTime": "yesterday"}})]},
    {"Statement": [_statement(Condition={"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}})]},
    {"Statement": [_statement(Condition={"Bool": {"aws:SecureTransport": "yes"}})]},
    {"Statement": [_statement(Condition={"Sometimes:StringEquals": {"k": "v"}})]},
])
def test_documents_outside_the_grammar_are_malformed(document):
    with pytest.raises(policy.MalformedPolicy):
        policy.validate(document)


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"Statement": ' * 3000 + "1" + "}" * 3000, "x" * 40000])
def test_huge_or_deep_documents_are_malformed(text):
    with pytest.raises(policy.MalformedPolicy):
        policy.parse(text)


def test_grammar_accepts_every_form():
    document = {
        "Version": "2012-10-17", "Id": "key-policy",
        "Statement": {
            "Sid": "any text at all", "Effect": "Deny", "NotPrincipal": {"AWS": "111122223333", "Service": "ec2.amazonaws.com"},
            "NotAction": ["kms:Describe*", "kms:List?eys"], "NotResource": "arn:aws:kms:*:*:key/*",
            "Condition": {
                "ForAnyValue:StringLikeIfExists": {"aws:PrincipalOrgPaths": ["o-1/*", "o-2/*"]},
                "NumericLessThanEquals": {"kms:GrantCount": 5}, "Bool": {"aws:SecureTransport": True},
                "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "Null": {"aws:PrincipalOrgID": "false"},
            },
        },
    }
    compiled = policy.validate(document)
    assert len(compiled.statements) == 1 and compiled.statements[0].not_principal
    with pytest.raises(policy.MalformedPolicy):
        policy.validate(document, principals=policy.PRINCIPAL_FORBIDDEN)
    identity = {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    assert policy.evaluate(policy.validate(identity, principals=policy.PRINCIPAL_FORBIDDEN), request()) == policy.ALLOW
    with pytest.raises(policy.MalformedPolicy):
        policy.validate(identity)


def test_numeric_date_and_wildcard_conditions():
    def allowed(condition, **context):
        d = policy.validate(doc(_statement(Condition=condition)))
        r = request()
        r.context.update({k.lower(): [v] for k, v in context.items()})
        return policy.evaluate(d, r) == policy.ALLOW

    assert allowed({"NumericLessThan": {"kms:n": 10}}, **{"kms:n": "9"})
    assert not allowed({"NumericLessThan": {"kms:n": "10"}}, **{"kms:n": "10"})
    assert not allowed({"NumericLessThan": {"kms:n": 10}}, **{"kms:n": "not a number"})
    assert allowed({"NumericNotEquals": {"kms:n": 10}})
    assert allowed({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, **{"aws:CurrentTime": "2025-06-01T00:00:00Z"})
    assert allowed({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, **{"aws:SourceIp": "10.1.2.3"})
    assert not allowed({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, **{"aws:SourceIp": "not an ip"})
    # Only * and ? are wildcards; brackets are plain characters.
    assert not allowed({"StringLike": {"aws:PrincipalAccount": "[1]111*"}})
    assert allowed({"StringLike": {"aws:PrincipalAccount": "1111?2223333"}})


def test_a_stored_document_that_no_longer_validates_denies():
    assert policy.load_stored("not json") is policy.DENY_ALL
    assert policy.evaluate(policy.load_stored('{"Statement": [1]}'), request()) == policy.DENY


# --- policy variables


def _doc(*statements, version="2012-10-17"):
    return policy.validate({"Version": version, "Statement": list(statements)}, policy.PRINCIPAL_FORBIDDEN)


def _on(resource, action="s3:GetObject", **context):
    return policy.Request("111122223333", action, resource, {k.lower(): [v] for k, v in context.items()})


def test_variables_in_resources_are_resolved_per_request():
    document = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"})
    assert policy.evaluate(document, _on("arn:aws:s3:::home/ana/notes", **{"aws:username": "ana"})) == policy.ALLOW
    assert policy.evaluate(document, _on("arn:aws:s3:::home/ana/notes", **{"aws:username": "bo"})) == policy.NOT_APPLICABLE
    # A caller without the key (a role session has no aws:username) matches nothing.
    assert policy.evaluate(document, _on("arn:aws:s3:::home/ana/notes")) == policy.NOT_APPLICABLE


def test_a_variable_value_is_literal_and_escapes_are_characters():
    document = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:PrincipalTag/team}/*"})
    assert policy.evaluate(document, _on("arn:aws:s3:::build/x", **{"aws:principaltag/team": "build"})) == policy.ALLOW
    assert policy.evaluate(document, _on("arn:aws:s3:::anything/x", **{"aws:principaltag/team": "*"})) == policy.NOT_APPLICABLE
    assert policy.evaluate(document, _on("arn:aws:s3:::*/x", **{"aws:principaltag/team": "*"})) == policy.ALLOW
    literal = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a${*}b${?}c${$}"})
    assert policy.evaluate(literal, _on("arn:aws:s3:::a*b?c$")) == policy.ALLOW
    assert policy.evaluate(literal, _on("arn:aws:s3:::axxbyc$")) == policy.NOT_APPLICABLE


def test_defaults_and_conditions():
    document = _doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": {
        "StringEquals": {"ec2:ResourceTag/owner": "${aws:userid}",
                         "ec2:ResourceTag/team": "${aws:PrincipalTag/team, 'shared'}"},
        "StringLike": {"ec2:ResourceTag/path": "${aws:PrincipalAccount}/*"}}})
    context = {"aws:userid": "AIDA1", "ec2:resourcetag/owner": "AIDA1", "ec2:resourcetag/team": "shared",
               "aws:principalaccount": "111122223333", "ec2:resourcetag/path": "111122223333/x"}
    assert policy.evaluate(document, _on("arn:x", "ec2:RunInstances", **context)) == policy.ALLOW
    context["aws:principaltag/team"] = "build"
    assert policy.evaluate(document, _on("arn:x", "ec2:RunInstances", **context)) == policy.NOT_APPLICABLE
    context["ec2:resourcetag/team"] = "build"
    assert policy.evaluate(document, _on("arn:x", "ec2:RunInstances", **context)) == policy.ALLOW
    context["ec2:resourcetag/owner"] = "AIDA2"
    assert policy.evaluate(document, _on("arn:x", "ec2:RunInstances", **context)) == policy.NOT_APPLICABLE


def test_variables_need_version_2012_10_17():
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}
    old = _doc(statement, version="2008-10-17")
    assert policy.evaluate(old, _on("arn:aws:s3:::home/ana/x", **{"aws:username": "ana"})) == policy.NOT_APPLICABLE
    assert policy.evaluate(old, _on("arn:aws:s3:::home/${aws:username}/x")) == policy.ALLOW


def test_one_compiled_policy_serves_every_caller():
    document = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"})
    for name in ("ana", "bo", "cy"):
        assert policy.evaluate(document, _on(f"arn:aws:s3:::home/{name}/x", **{"aws:username": name})) == policy.ALLOW
        assert policy.evaluate(document, _on("arn:aws:s3:::home/ana/x", **{"aws:username": name})) == (
            policy.ALLOW if name == "ana" else policy.NOT_APPLICABLE)
