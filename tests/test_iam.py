"""IAM through a real server: users, access keys, groups, roles, managed and inline
policies, permissions boundaries and tags, with AWS's ids, ARNs and error codes.
Every refused call leaves the account as it was."""

import json
import re

import botocore.config
import pytest

from support import Account
from support import expect_error as _error
from support import policy_document as _doc

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
AWS_MANAGED = ("AdministratorAccess", "AmazonEC2FullAccess", "AmazonEC2ReadOnlyAccess", "ReadOnlyAccess",
               "IAMFullAccess", "PowerUserAccess")
UNIQUE_ID = r"[A-Z2-7]{17}"



def _allow(action="ec2:Describe*", resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _trust(principal):
    return _doc({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"})


@pytest.fixture
def iam(server, alice):
    return server.client(alice, "iam")


def _unvalidated(server, account):
    """An IAM client that leaves input validation to the server."""
    import boto3

    from support import CLIENT_CONFIG

    return boto3.client("iam", region_name="us-east-1", endpoint_url=server.endpoint,
                        config=CLIENT_CONFIG.merge(botocore.config.Config(parameter_validation=False)),
                        aws_access_key_id=account.access_key_id, aws_secret_access_key=account.secret_access_key)


def test_users(iam, server, alice, bob):
    created = iam.create_user(UserName="Alice", Path="/eng/web/", Tags=[{"Key": "team", "Value": "web"}])["User"]
    assert re.fullmatch("AIDA" + UNIQUE_ID, created["UserId"])
    assert created["Arn"] == f"arn:aws:iam::{alice.account_id}:user/eng/web/Alice"
    assert created["Path"] == "/eng/web/" and created["Tags"] == [{"Key": "team", "Value": "web"}]
    iam.create_user(UserName="bob")
    fetched = iam.get_user(UserName="alice")["User"]  # names are not distinguished by case
    assert fetched["UserName"] == "Alice" and fetched["UserId"] == created["UserId"]
    assert fetched["Tags"] == [{"Key": "team", "Value": "web"}]

    assert "already exists" in _error(lambda: iam.create_user(UserName="ALICE"), "EntityAlreadyExists", 409)
    assert "cannot be found" in _error(lambda: iam.get_user(UserName="nobody"), "NoSuchEntity", 404)
    message = _error(lambda: iam.create_user(UserName="bad name"), "ValidationError", 400)
    assert "userName" in message and "regular expression pattern" in message
    _error(lambda: iam.create_user(UserName="x", Path="no-slash"), "ValidationError", 400)
    _error(lambda: iam.create_user(UserName="y" * 65), "ValidationError", 400)
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["Alice", "bob"]

    assert [u["UserName"] for u in iam.list_users(PathPrefix="/eng/")["Users"]] == ["Alice"]
    first = iam.list_users(MaxItems=1)
    assert first["IsTruncated"] and [u["UserName"] for u in first["Users"]] == ["Alice"]
    rest = iam.list_users(MaxItems=1, Marker=first["Marker"])
    assert not rest["IsTruncated"] and [u["UserName"] for u in rest["Users"]] == ["bob"]
    # another account's users are invisible; names are per account
    other = server.client(bob, "iam")
    assert other.list_users()["Users"] == []
    other.create_user(UserName="Alice")
    root = iam.get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{alice.account_id}:root" and root["UserId"] == alice.account_id

    iam.delete_user(UserName="bob")
    _error(lambda: iam.delete_user(UserName="bob"), "NoSuchEntity", 404)
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["Alice"]


def test_iam_is_global(server, alice):
    server.client(alice, "iam").create_user(UserName="global")
    for region in ("eu-west-1", "ap-southeast-2"):
        names = [u["UserName"] for u in server.client(alice, "iam", region=region).list_users()["Users"]]
        assert names == ["global"]


def test_access_keys(iam, server, alice):
    iam.create_user(UserName="dev")
    first = iam.create_access_key(UserName="dev")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", first["AccessKeyId"]) and len(first["SecretAccessKey"]) == 40
    assert first["Status"] == "Active" and first["UserName"] == "dev"
    second = iam.create_access_key(UserName="dev")["AccessKey"]
    assert "AccessKeysPerUser" in _error(lambda: iam.create_access_key(UserName="dev"), "LimitExceeded", 409)
    listed = iam.list_access_keys(UserName="dev")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first["AccessKeyId"], second["AccessKeyId"]}
    assert "SecretAccessKey" not in listed[0]

    user = Account(alice.account_id, first["AccessKeyId"], first["SecretAccessKey"])
    sts = server.client(user, "sts")
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{alice.account_id}:user/dev"
    # deactivated: refused on the very next request; active again: accepted again
    iam.update_access_key(UserName="dev", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="dev")["AccessKeyMetadata"]}
    assert statuses == {first["AccessKeyId"]: "Inactive", second["AccessKeyId"]: "Active"}
    _error(sts.get_caller_identity, "InvalidClientTokenId", 403)
    _error(lambda: server.client(user).describe_images(Owners=["self"]), "AuthFailure", 401)
    iam.update_access_key(UserName="dev", AccessKeyId=first["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Account"] == alice.account_id
    iam.delete_access_key(UserName="dev", AccessKeyId=first["AccessKeyId"])
    _error(sts.get_caller_identity, "InvalidClientTokenId", 403)
    _error(lambda: iam.delete_access_key(UserName="dev", AccessKeyId=first["AccessKeyId"]), "NoSuchEntity", 404)

    iam.create_user(UserName="other")
    _error(lambda: iam.update_access_key(UserName="other", AccessKeyId=second["AccessKeyId"], Status="Inactive"),
           "NoSuchEntity", 404)
    _error(lambda: iam.update_access_key(UserName="dev", AccessKeyId=second["AccessKeyId"], Status="Expired"),
           "ValidationError", 400)
    assert iam.list_access_keys(UserName="dev")["AccessKeyMetadata"][0]["Status"] == "Active"
    assert "access keys" in _error(lambda: iam.delete_user(UserName="dev"), "DeleteConflict", 409)
    # without a user name, the root user's own keys
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [alice.access_key_id]


def test_groups(iam, alice):
    group = iam.create_group(GroupName="admins", Path="/ops/")["Group"]
    assert re.fullmatch("AGPA" + UNIQUE_ID, group["GroupId"])
    assert group["Arn"] == f"arn:aws:iam::{alice.account_id}:group/ops/admins"
    _error(lambda: iam.create_group(GroupName="Admins"), "EntityAlreadyExists", 409)
    iam.create_group(GroupName="readers")
    iam.create_user(UserName="u1")
    iam.add_user_to_group(GroupName="admins", UserName="u1")
    iam.add_user_to_group(GroupName="admins", UserName="u1")  # adding twice changes nothing
    iam.add_user_to_group(GroupName="readers", UserName="u1")
    fetched = iam.get_group(GroupName="admins")
    assert fetched["Group"]["GroupId"] == group["GroupId"] and [u["UserName"] for u in fetched["Users"]] == ["u1"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="u1")["Groups"]] == ["admins", "readers"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/ops/")["Groups"]] == ["admins"]
    _error(lambda: iam.add_user_to_group(GroupName="nope", UserName="u1"), "NoSuchEntity", 404)
    _error(lambda: iam.add_user_to_group(GroupName="admins", UserName="nope"), "NoSuchEntity", 404)
    assert "remove users" in _error(lambda: iam.delete_group(GroupName="admins"), "DeleteConflict", 409)
    assert "group" in _error(lambda: iam.delete_user(UserName="u1"), "DeleteConflict", 409)
    iam.remove_user_from_group(GroupName="admins", UserName="u1")
    _error(lambda: iam.remove_user_from_group(GroupName="admins", UserName="u1"), "NoSuchEntity", 404)
    iam.delete_group(GroupName="admins")
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["readers"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="u1")["Groups"]] == ["readers"]


def test_roles(iam, server, alice, bob):
    trust = json.loads(_trust(f"arn:aws:iam::{bob.account_id}:root"))
    role = iam.create_role(RoleName="deployer", Path="/ci/", AssumeRolePolicyDocument=json.dumps(trust),
                           Description="CI", Tags=[{"Key": "env", "Value": "prod"}])["Role"]
    assert re.fullmatch("AROA" + UNIQUE_ID, role["RoleId"])
    assert role["Arn"] == f"arn:aws:iam::{alice.account_id}:role/ci/deployer"
    assert role["MaxSessionDuration"] == 3600 and role["AssumeRolePolicyDocument"] == trust
    fetched = iam.get_role(RoleName="deployer")["Role"]
    assert fetched["AssumeRolePolicyDocument"] == trust and fetched["Description"] == "CI"
    assert fetched["Tags"] == [{"Key": "env", "Value": "prod"}]
    _error(lambda: iam.create_role(RoleName="DEPLOYER", AssumeRolePolicyDocument=json.dumps(trust)),
           "EntityAlreadyExists", 409)

    no_principal = _doc({"Effect": "Allow", "Action": "sts:AssumeRole"})
    with_resource = _doc({"Effect": "Allow", "Principal": {"AWS": bob.account_id}, "Action": "sts:AssumeRole",
                          "Resource": "*"})
    ghost = _trust(f"arn:aws:iam::{bob.account_id}:user/ghost")
    for bad in (no_principal, with_resource, ghost, "{not json"):
        _error(lambda: iam.create_role(RoleName="bad", AssumeRolePolicyDocument=bad), "MalformedPolicyDocument", 400)
        _error(lambda: iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=bad),
               "MalformedPolicyDocument", 400)
    _error(lambda: _unvalidated(server, alice).create_role(RoleName="bad", AssumeRolePolicyDocument=json.dumps(trust),
                                                           MaxSessionDuration=60), "ValidationError", 400)
    _error(lambda: iam.get_role(RoleName="bad"), "NoSuchEntity", 404)
    assert iam.get_role(RoleName="deployer")["Role"]["AssumeRolePolicyDocument"] == trust

    server.client(bob, "iam").create_user(UserName="builder")
    named = json.loads(_trust(f"arn:aws:iam::{bob.account_id}:user/builder"))
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=json.dumps(named))
    iam.update_role(RoleName="deployer", MaxSessionDuration=7200, Description="CI runners")
    fetched = iam.get_role(RoleName="deployer")["Role"]
    assert fetched["AssumeRolePolicyDocument"] == named and fetched["MaxSessionDuration"] == 7200
    assert fetched["Description"] == "CI runners"
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/ci/")["Roles"]] == ["deployer"]

    iam.attach_role_policy(RoleName="deployer", PolicyArn=ADMIN)
    assert "detach" in _error(lambda: iam.delete_role(RoleName="deployer"), "DeleteConflict", 409)
    iam.detach_role_policy(RoleName="deployer", PolicyArn=ADMIN)
    iam.delete_role(RoleName="deployer")
    assert iam.list_roles()["Roles"] == []


def test_managed_policies_and_versions(iam, alice):
    arn = f"arn:aws:iam::{alice.account_id}:policy/team/read-images"
    created = iam.create_policy(PolicyName="read-images", Path="/team/", PolicyDocument=_doc(_allow()),
                                Description="read")["Policy"]
    assert created["Arn"] == arn and re.fullmatch("ANPA" + UNIQUE_ID, created["PolicyId"])
    assert created["DefaultVersionId"] == "v1" and created["AttachmentCount"] == 0 and created["IsAttachable"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "read"
    assert "Duplicate" in _error(lambda: iam.create_policy(PolicyName="READ-IMAGES", PolicyDocument=_doc(_allow())),
                                 "EntityAlreadyExists", 409)
    for bad in (_doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Principal": "*"}),
                _doc({"Effect": "Maybe", "Action": "ec2:*", "Resource": "*"}), "[]"):
        _error(lambda: iam.create_policy(PolicyName="bad", PolicyDocument=bad), "MalformedPolicyDocument", 400)
    big = _doc(*[_allow(f"ec2:DescribeImages{i:04d}") for i in range(200)])
    assert "PolicySize" in _error(lambda: iam.create_policy(PolicyName="big", PolicyDocument=big), "LimitExceeded")
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == ["read-images"]

    for number in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(_allow(f"ec2:Describe{number}")),
                                            SetAsDefault=number == 3)["PolicyVersion"]
        assert version["VersionId"] == f"v{number}" and version["IsDefaultVersion"] == (number == 3)
    assert "5 versions" in _error(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(_allow())),
                                  "LimitExceeded", 409)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v3"]
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert got["Document"]["Statement"][0]["Action"] == "ec2:Describe2" and not got["IsDefaultVersion"]
    _error(lambda: iam.get_policy_version(PolicyArn=arn, VersionId="v9"), "NoSuchEntity", 404)
    assert "default version" in _error(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v3"),
                                       "DeleteConflict", 409)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(_allow()))["PolicyVersion"]
    assert version["VersionId"] == "v6"  # version numbers are never reused
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    _error(lambda: iam.set_default_policy_version(PolicyArn=arn, VersionId="v1"), "NoSuchEntity", 404)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"

    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"][0]["Arn"] == arn
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["reader"]
    assert "attached" in _error(lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)
    iam.detach_user_policy(UserName="reader", PolicyArn=arn)
    assert "versions" in _error(lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)
    for number in (2, 4, 5):
        iam.delete_policy_version(PolicyArn=arn, VersionId=f"v{number}")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    iam.delete_policy(PolicyArn=arn)
    _error(lambda: iam.get_policy(PolicyArn=arn), "NoSuchEntity", 404)
    _error(lambda: iam.get_policy(PolicyArn="not-an-arn-at-all-really"), "InvalidInput", 400)


def test_aws_managed_policies_in_every_account(server, alice, bob):
    for account in (alice, bob):
        iam = server.client(account, "iam")
        listed = {p["PolicyName"]: p for p in iam.list_policies(Scope="AWS")["Policies"]}
        assert set(AWS_MANAGED) <= set(listed)
        assert all(p["Arn"] == f"arn:aws:iam::aws:policy/{name}" for name, p in listed.items())
        admin = iam.get_policy(PolicyArn=ADMIN)["Policy"]
        version = iam.get_policy_version(PolicyArn=ADMIN, VersionId=admin["DefaultVersionId"])["PolicyVersion"]
        assert version["Document"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    power = server.client(alice, "iam").get_policy_version(
        PolicyArn="arn:aws:iam::aws:policy/PowerUserAccess", VersionId="v12")["PolicyVersion"]["Document"]
    assert power["Statement"][0]["NotAction"] == ["iam:*", "organizations:*", "account:*"]

    iam = server.client(alice, "iam")
    iam.create_user(UserName="ops")
    iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    counts = {p["PolicyName"]: p["AttachmentCount"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert counts["AmazonEC2ReadOnlyAccess"] == 1 and counts["AdministratorAccess"] == 0
    assert [p["PolicyName"] for p in iam.list_policies(OnlyAttached=True)["Policies"]] == ["AmazonEC2ReadOnlyAccess"]
    assert server.client(bob, "iam").list_policies(OnlyAttached=True)["Policies"] == []
    for call in (lambda: iam.create_policy_version(PolicyArn=ADMIN, PolicyDocument=_doc(_allow())),
                 lambda: iam.delete_policy(PolicyArn=ADMIN),
                 lambda: iam.delete_policy_version(PolicyArn=ADMIN, VersionId="v1")):
        _error(call, "AccessDenied", 403)
    _error(lambda: iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy"),
           "NoSuchEntity", 404)


def test_attachment_quota_and_errors(iam, alice):
    arns = [ADMIN] + [iam.create_policy(PolicyName=f"p{i}", PolicyDocument=_doc(_allow()))["Policy"]["Arn"]
                      for i in range(10)]
    for kind, create in (("User", lambda: iam.create_user(UserName="q")),
                         ("Role", lambda: iam.create_role(RoleName="q", AssumeRolePolicyDocument=_trust(alice.account_id))),
                         ("Group", lambda: iam.create_group(GroupName="q"))):
        create()
        attach = getattr(iam, f"attach_{kind.lower()}_policy")
        listed = getattr(iam, f"list_attached_{kind.lower()}_policies")
        for arn in arns[:10]:
            attach(**{f"{kind}Name": "q", "PolicyArn": arn})
        attach(**{f"{kind}Name": "q", "PolicyArn": arns[0]})  # attaching again changes nothing
        assert f"PoliciesPer{kind}" in _error(lambda: attach(**{f"{kind}Name": "q", "PolicyArn": arns[10]}),
                                              "LimitExceeded", 409)
        assert len(listed(**{f"{kind}Name": "q"})["AttachedPolicies"]) == 10
    _error(lambda: iam.detach_user_policy(UserName="q", PolicyArn=arns[10]), "NoSuchEntity", 404)
    _error(lambda: iam.attach_user_policy(UserName="q", PolicyArn=f"arn:aws:iam::{alice.account_id}:policy/none"),
           "NoSuchEntity", 404)
    _error(lambda: iam.attach_user_policy(UserName="nobody", PolicyArn=ADMIN), "NoSuchEntity", 404)
    _error(lambda: iam.attach_user_policy(UserName="q", PolicyArn="arn:aws:s3:::some-bucket"), "InvalidInput", 400)
    page = iam.list_attached_user_policies(UserName="q", MaxItems=4)
    rest = iam.list_attached_user_policies(UserName="q", Marker=page["Marker"])
    assert len(page["AttachedPolicies"]) == 4 and len(rest["AttachedPolicies"]) == 6
    assert "detach" in _error(lambda: iam.delete_group(GroupName="q"), "DeleteConflict", 409)


def test_inline_policies(iam, alice):
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(alice.account_id))
    for kind in ("User", "Group", "Role"):
        put, get = getattr(iam, f"put_{kind.lower()}_policy"), getattr(iam, f"get_{kind.lower()}_policy")
        listed, delete = getattr(iam, f"list_{kind.lower()}_policies"), getattr(iam, f"delete_{kind.lower()}_policy")
        name = {f"{kind}Name": kind[0].lower()}
        put(**name, PolicyName="one", PolicyDocument=_doc(_allow()))
        put(**name, PolicyName="two", PolicyDocument=_doc(_allow("kms:List*")))
        put(**name, PolicyName="one", PolicyDocument=_doc(_allow("ec2:RunInstances")))  # replaces
        got = get(**name, PolicyName="one")
        assert got[f"{kind}Name"] == kind[0].lower() and got["PolicyDocument"]["Statement"][0]["Action"] == \
            "ec2:RunInstances"
        assert listed(**name)["PolicyNames"] == ["one", "two"]
        _error(lambda: put(**name, PolicyName="p", PolicyDocument=_doc(dict(_allow(), Principal="*"))),
               "MalformedPolicyDocument", 400)
        _error(lambda: put(**name, PolicyName="p", PolicyDocument=_doc({"Effect": "Allow", "Action": "ec2:*"})),
               "MalformedPolicyDocument", 400)
        _error(lambda: get(**name, PolicyName="missing"), "NoSuchEntity", 404)
        _error(lambda: delete(**name, PolicyName="missing"), "NoSuchEntity", 404)
    big = _doc(*[_allow(f"ec2:DescribeImages{i:03d}") for i in range(60)])
    assert "2048" in _error(lambda: iam.put_user_policy(UserName="u", PolicyName="big", PolicyDocument=big),
                            "LimitExceeded", 409)
    iam.put_role_policy(RoleName="r", PolicyName="big", PolicyDocument=big)  # a role's quota is 10,240
    assert iam.list_user_policies(UserName="u")["PolicyNames"] == ["one", "two"]
    assert "policies" in _error(lambda: iam.delete_user(UserName="u"), "DeleteConflict", 409)
    iam.delete_user_policy(UserName="u", PolicyName="one")
    iam.delete_user_policy(UserName="u", PolicyName="two")
    iam.delete_user(UserName="u")


def test_permissions_boundaries(iam, alice):
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=_doc(_allow("ec2:*")))["Policy"]["Arn"]
    user = iam.create_user(UserName="bounded", PermissionsBoundary=boundary)["User"]
    assert user["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=_trust(alice.account_id))
    iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=boundary)
    assert iam.get_role(RoleName="bounded")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 2
    assert "attached" in _error(lambda: iam.delete_policy(PolicyArn=boundary), "DeleteConflict", 409)
    missing = f"arn:aws:iam::{alice.account_id}:policy/missing"
    _error(lambda: iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=missing),
           "NoSuchEntity", 404)
    _error(lambda: iam.create_user(UserName="other", PermissionsBoundary=missing), "NoSuchEntity", 404)
    _error(lambda: iam.get_user(UserName="other"), "NoSuchEntity", 404)
    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=ADMIN)
    assert iam.get_user(UserName="bounded")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == ADMIN
    iam.delete_user_permissions_boundary(UserName="bounded")
    iam.delete_role_permissions_boundary(RoleName="bounded")
    assert "PermissionsBoundary" not in iam.get_user(UserName="bounded")["User"]
    iam.delete_policy(PolicyArn=boundary)


def test_tags(iam, server, alice):
    iam.create_user(UserName="t", Tags=[{"Key": "Team", "Value": "a"}])
    iam.tag_user(UserName="t", Tags=[{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "42"}])
    assert iam.list_user_tags(UserName="t")["Tags"] == [{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "42"}]
    assert "case insensitive" in _error(
        lambda: iam.tag_user(UserName="t", Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}]),
        "InvalidInput", 400)
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    _error(lambda: iam.tag_user(UserName="t", Tags=many), "LimitExceeded", 409)
    assert len(iam.list_user_tags(UserName="t")["Tags"]) == 2
    iam.untag_user(UserName="t", TagKeys=["TEAM"])
    assert iam.list_user_tags(UserName="t")["Tags"] == [{"Key": "cost", "Value": "42"}]
    iam.create_role(RoleName="t", AssumeRolePolicyDocument=_trust(alice.account_id))
    iam.tag_role(RoleName="t", Tags=[{"Key": "env", "Value": "dev"}])
    assert iam.list_role_tags(RoleName="t")["Tags"] == [{"Key": "env", "Value": "dev"}]
    iam.untag_role(RoleName="t", TagKeys=["env"])
    assert iam.list_role_tags(RoleName="t")["Tags"] == []
    _error(lambda: iam.tag_role(RoleName="none", Tags=[{"Key": "a", "Value": "b"}]), "NoSuchEntity", 404)
    _error(lambda: _unvalidated(server, alice).tag_user(UserName="t", Tags=[{"Key": "bad\u0001", "Value": "v"}]),
           "ValidationError", 400)


def test_account_authorization_details(iam, alice):
    policy = iam.create_policy(PolicyName="local", PolicyDocument=_doc(_allow()))["Policy"]["Arn"]
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="inline", PolicyDocument=_doc(_allow("kms:*")))
    iam.attach_group_policy(GroupName="g", PolicyArn=ADMIN)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(alice.account_id))
    iam.attach_role_policy(RoleName="r", PolicyArn=policy)
    details = iam.get_account_authorization_details()
    user = details["UserDetailList"][0]
    assert user["UserName"] == "u" and user["GroupList"] == ["g"]
    assert user["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "kms:*"
    assert details["GroupDetailList"][0]["AttachedManagedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
    assert details["RoleDetailList"][0]["AttachedManagedPolicies"][0]["PolicyArn"] == policy
    assert {p["Arn"] for p in details["Policies"]} == {policy, ADMIN}
    local = [p for p in details["Policies"] if p["Arn"] == policy][0]
    assert local["PolicyVersionList"][0]["Document"]["Statement"][0]["Action"] == "ec2:Describe*"
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert "UserDetailList" not in only_roles and len(only_roles["RoleDetailList"]) == 1


def test_iam_with_the_aws_cli(server, alice):
    code, user, _ = server.aws(alice, "iam", "create-user", "--user-name", "cli-user", "--path", "/cli/")
    assert user["User"]["Arn"] == f"arn:aws:iam::{alice.account_id}:user/cli/cli-user"
    _, key, _ = server.aws(alice, "iam", "create-access-key", "--user-name", "cli-user")
    server.aws(alice, "iam", "attach-user-policy", "--user-name", "cli-user", "--policy-arn", ADMIN)
    _, attached, _ = server.aws(alice, "iam", "list-attached-user-policies", "--user-name", "cli-user")
    assert attached["AttachedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
    server.aws(alice, "iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document",
               _trust(alice.account_id))
    _, role, _ = server.aws(alice, "iam", "get-role", "--role-name", "cli-role")
    assert role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": alice.account_id}
    code, _, err = server.aws(alice, "iam", "get-user", "--user-name", "nobody", check=False)
    assert code != 0 and "NoSuchEntity" in err
    user_creds = Account(alice.account_id, key["AccessKey"]["AccessKeyId"], key["AccessKey"]["SecretAccessKey"])
    _, identity, _ = server.aws(user_creds, "sts", "get-caller-identity")
    assert identity["Arn"] == f"arn:aws:iam::{alice.account_id}:user/cli/cli-user"


def test_iam_calls_follow_the_users_policies(server, alice):
    """A user with AdministratorAccess may manage IAM; one without a policy may not, and its
    refusal names the action, the resource and the reason, as AWS does."""
    admin = server.new_user(alice, "admin", [ADMIN])
    assert [u["UserName"] for u in server.client(admin, "iam").list_users()["Users"]] == ["admin"]
    server.client(admin, "iam").create_user(UserName="x")
    nobody = server.new_user(alice, "nobody")
    message = _error(lambda: server.client(nobody, "iam").create_user(UserName="y"), "AccessDenied", 403)
    assert f"User: arn:aws:iam::{alice.account_id}:user/nobody is not authorized to perform: iam:CreateUser" in message
    assert "because no identity-based policy allows the iam:CreateUser action" in message
    assert sorted(u["UserName"] for u in server.client(alice, "iam").list_users()["Users"]) == ["admin", "nobody", "x"]


def _walk(call, lists, **params):
    """Every page of a Marker/MaxItems call: the items of `lists` in order, and how many pages."""
    found, pages, marker = {name: [] for name in lists}, 0, None
    while True:
        page = call(**params, **({"Marker": marker} if marker else {}))
        pages += 1
        for name in lists:
            found[name] += page.get(name, [])
        if not page["IsTruncated"]:
            assert "Marker" not in page
            return found, pages
        marker = page["Marker"]


def test_account_authorization_details_pages_across_sections(server, iam, alice):
    local = [iam.create_policy(PolicyName=f"p{i}", PolicyDocument=_doc(_allow()))["Policy"]["Arn"] for i in range(2)]
    for name in ("carol", "ana", "bo"):
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn=local[0])
    for name in ("g2", "g1"):
        iam.create_group(GroupName=name)
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=_trust(alice.account_id))
    iam.attach_role_policy(RoleName="r1", PolicyArn=ADMIN)
    lists = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
    whole = iam.get_account_authorization_details()
    assert whole["IsTruncated"] is False
    assert [u["UserName"] for u in whole["UserDetailList"]] == ["ana", "bo", "carol"]
    for size in (1, 2, 3, 7):
        paged, pages = _walk(iam.get_account_authorization_details, lists, MaxItems=size)
        assert paged == {name: whole[name] for name in lists}, size
        assert pages == -(-9 // size)  # 3 users, 2 groups, 1 role, 2 local policies and AdministratorAccess
    # A Filter pages over what it keeps; a marker is only good for the request that made it.
    paged, pages = _walk(iam.get_account_authorization_details, ("GroupDetailList", "Policies"), MaxItems=1,
                         Filter=["Group", "AWSManagedPolicy"])
    assert [g["GroupName"] for g in paged["GroupDetailList"]] == ["g1", "g2"]
    assert [p["Arn"] for p in paged["Policies"]] == [ADMIN] and pages == 3
    marker = iam.get_account_authorization_details(MaxItems=1)["Marker"]
    _error(lambda: iam.get_account_authorization_details(MaxItems=1, Marker=marker, Filter=["Role"]), "ValidationError")
    _error(lambda: iam.get_account_authorization_details(Marker="bm90LWEtbWFya2Vy"), "ValidationError")
    # The aws CLI walks the pages itself.
    _, details, _ = server.aws(alice, "iam", "get-account-authorization-details", "--page-size", "2")
    assert [u["UserName"] for u in details["UserDetailList"]] == ["ana", "bo", "carol"]
    assert len(details["Policies"]) == 3


def test_entities_for_policy_and_policy_versions_page(iam, alice):
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=_doc(_allow()))["Policy"]["Arn"]
    for name in ("u1", "u2", "u3"):
        iam.create_user(UserName=name, Path="/team/" if name != "u3" else "/")
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    iam.create_group(GroupName="grp")
    iam.attach_group_policy(GroupName="grp", PolicyArn=arn)
    lists = ("PolicyUsers", "PolicyGroups", "PolicyRoles")
    whole = iam.list_entities_for_policy(PolicyArn=arn)
    assert sorted(u["UserName"] for u in whole["PolicyUsers"]) == ["u1", "u2", "u3"] and whole["IsTruncated"] is False
    paged, pages = _walk(iam.list_entities_for_policy, lists, PolicyArn=arn, MaxItems=1)
    assert pages == 4 and sorted(u["UserName"] for u in paged["PolicyUsers"]) == ["u1", "u2", "u3"]
    assert [g["GroupName"] for g in paged["PolicyGroups"]] == ["grp"]
    paged, _ = _walk(iam.list_entities_for_policy, lists, PolicyArn=arn, MaxItems=2, EntityFilter="User",
                     PathPrefix="/team/")
    assert sorted(u["UserName"] for u in paged["PolicyUsers"]) == ["u1", "u2"] and paged["PolicyGroups"] == []
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(_allow("kms:*")))
    versions = iam.list_policy_versions(PolicyArn=arn)
    assert [v["VersionId"] for v in versions["Versions"]] == ["v4", "v3", "v2", "v1"]
    paged, pages = _walk(iam.list_policy_versions, ("Versions",), PolicyArn=arn, MaxItems=3)
    assert [v["VersionId"] for v in paged["Versions"]] == ["v4", "v3", "v2", "v1"] and pages == 2


def test_simulations_page(iam, alice):
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="p", PolicyDocument=_doc(_allow("ec2:Describe*")))
    arn = f"arn:aws:iam::{alice.account_id}:user/sim"
    actions = ["ec2:DescribeImages", "ec2:RunInstances", "ec2:DescribeVolumes"]
    resources = ["arn:aws:ec2:us-east-1::image/ami-1", "arn:aws:ec2:us-east-1::image/ami-2"]
    whole = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, ResourceArns=resources)
    assert len(whole["EvaluationResults"]) == 6 and whole["IsTruncated"] is False
    paged, pages = _walk(iam.simulate_principal_policy, ("EvaluationResults",), PolicySourceArn=arn,
                         ActionNames=actions, ResourceArns=resources, MaxItems=4)
    assert paged["EvaluationResults"] == whole["EvaluationResults"] and pages == 2
    custom, pages = _walk(iam.simulate_custom_policy, ("EvaluationResults",), ActionNames=actions,
                          PolicyInputList=[_doc(_allow("ec2:Run*"))], MaxItems=1)
    assert [r["EvalDecision"] for r in custom["EvaluationResults"]] == ["implicitDeny", "allowed", "implicitDeny"]
    assert pages == 3
    marker = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, MaxItems=1)["Marker"]
    _error(lambda: iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions[:2], Marker=marker),
           "ValidationError")
