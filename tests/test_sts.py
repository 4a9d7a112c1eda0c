"""STS through a real server: GetCallerIdentity for every kind of principal, AssumeRole
within and across accounts (trust policies, ExternalId, the caller's own policies),
and the temporary credentials it returns: their session token, their expiry."""

import json
import re
import time
import urllib.request
from urllib.error import HTTPError

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
from sqlalchemy import update

from amishare.domain import authz
from amishare.domain import iam as iam_domain
from amishare.store.db import open_store
from amishare.store.schema import iam_sessions
from support import CLIENT_CONFIG, Account
from support import expect_error as _error
from support import policy_document as _doc

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"



def _trust(principal, condition=None, effect="Allow", action="sts:AssumeRole"):
    statement = {"Effect": effect, "Principal": {"AWS": principal}, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


def _role(server, owner, name, *statements, **params):
    return server.client(owner, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=_doc(*statements),
                                                   **params)["Role"]["Arn"]


def _assume_policy(server, account, user, resource="*", effect="Allow"):
    server.client(account, "iam").put_user_policy(
        UserName=user, PolicyName=f"assume-{effect}", PolicyDocument=_doc(
            {"Effect": effect, "Action": "sts:AssumeRole", "Resource": resource}))


class _Db:
    def __init__(self, server):
        self.store = open_store(server.db_url, run_migrations=False)

    def __enter__(self):
        return self.store

    def __exit__(self, *exc):
        self.store.dispose()


def _expire(server, session: Account):
    """Move the session's expiration into the past, as time would."""
    with _Db(server) as store, store.transaction() as conn:
        conn.execute(update(iam_sessions).where(iam_sessions.c.access_key_id == session.access_key_id)
                     .values(expires_at=time.time() - 1))


def test_caller_identity_of_users_and_sessions(server, alice):
    user = server.new_user(alice, "dev", path="/team/")
    identity = server.client(user, "sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{alice.account_id}:user/team/dev"
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", identity["UserId"]) and identity["Account"] == alice.account_id
    role = _role(server, alice, "reader", _trust(f"arn:aws:iam::{alice.account_id}:user/team/dev"), Path="/svc/")
    session = server.assume(user, role, "build-42")
    assert session.access_key_id.startswith("ASIA") and len(session.access_key_id) == 20
    identity = server.client(session, "sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{alice.account_id}:assumed-role/reader/build-42"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:build-42", identity["UserId"])
    _, cli_identity, _ = server.aws(session, "sts", "get-caller-identity")
    assert cli_identity["Arn"] == identity["Arn"]


def test_assume_role_answer(server, alice):
    user = server.new_user(alice, "dev")
    role = _role(server, alice, "answer", _trust(f"arn:aws:iam::{alice.account_id}:user/dev"))
    role_id = server.client(alice, "iam").get_role(RoleName="answer")["Role"]["RoleId"]
    before = time.time()
    answer = server.client(user, "sts").assume_role(RoleArn=role, RoleSessionName="s1")
    creds = answer["Credentials"]
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    assert abs(creds["Expiration"].timestamp() - (before + 3600)) < 30
    assert answer["AssumedRoleUser"] == {"AssumedRoleId": f"{role_id}:s1",
                                         "Arn": f"arn:aws:sts::{alice.account_id}:assumed-role/answer/s1"}
    assert "PackedPolicySize" not in answer


def test_root_cannot_assume_roles(server, alice, bob):
    role = _role(server, bob, "open", _trust(alice.account_id))
    message = _error(lambda: server.client(alice, "sts").assume_role(RoleArn=role, RoleSessionName="s1"),
                     "AccessDenied", 403)
    assert "root" in message


def test_cross_account_with_external_id(server, alice, bob):
    role = _role(server, bob, "vendor", _trust(f"arn:aws:iam::{alice.account_id}:root",
                                               {"StringEquals": {"sts:ExternalId": "Unique-42"}}))
    user = server.new_user(alice, "integrator")
    sts = server.client(user, "sts")
    # the trust policy allows alice's account, but alice's side must allow too
    _error(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1", ExternalId="Unique-42"), "AccessDenied", 403)
    _assume_policy(server, alice, "integrator", resource=role)
    _error(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1"), "AccessDenied", 403)
    _error(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1", ExternalId="wrong-id"), "AccessDenied", 403)
    session = server.assume(user, role, "s1", ExternalId="Unique-42")
    identity = server.client(session, "sts").get_caller_identity()
    assert identity["Account"] == bob.account_id
    assert identity["Arn"] == f"arn:aws:sts::{bob.account_id}:assumed-role/vendor/s1"
    # an explicit Deny on the caller's side wins
    _assume_policy(server, alice, "integrator", resource=role, effect="Deny")
    _error(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1", ExternalId="Unique-42"), "AccessDenied", 403)


def test_trust_policy_refusals(server, alice, bob):
    user = server.new_user(alice, "caller", [ADMIN])
    sts = server.client(user, "sts")
    not_trusted = _role(server, bob, "other", _trust(bob.account_id))
    denied = _role(server, bob, "denied", _trust(alice.account_id),
                   _trust(f"arn:aws:iam::{alice.account_id}:user/caller", effect="Deny"))
    tagged = _role(server, bob, "tagged", _trust(alice.account_id, {"StringEquals": {"aws:PrincipalTag/team": "ci"}}))
    for role in (not_trusted, denied, tagged, f"arn:aws:iam::{bob.account_id}:role/missing",
                 f"arn:aws:iam::{bob.account_id}:role/wrong/path/tagged"):
        message = _error(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1"), "AccessDenied", 403)
        assert f"arn:aws:iam::{alice.account_id}:user/caller" in message and "sts:AssumeRole" in message
    server.client(alice, "iam").tag_user(UserName="caller", Tags=[{"Key": "team", "Value": "ci"}])
    assert server.assume(user, tagged).account_id == bob.account_id
    _error(lambda: sts.assume_role(RoleArn="arn:aws:iam::bob:role/not-an-arn", RoleSessionName="s1"),
           "ValidationError", 400)


def test_same_account_trust_by_name_or_by_account(server, alice):
    plain = server.new_user(alice, "plain")
    by_name = _role(server, alice, "by-name", _trust(f"arn:aws:iam::{alice.account_id}:user/plain"))
    by_account = _role(server, alice, "by-account", _trust(f"arn:aws:iam::{alice.account_id}:root"))
    # named in the trust policy: no identity policy needed in the same account
    assert server.assume(plain, by_name).account_id == alice.account_id
    # trusted through its account only: its own policies must allow
    _error(lambda: server.client(plain, "sts").assume_role(RoleArn=by_account, RoleSessionName="s1"), "AccessDenied")
    _assume_policy(server, alice, "plain", resource=by_account)
    assert server.assume(plain, by_account).account_id == alice.account_id


def test_role_chaining(server, alice, bob):
    user = server.new_user(alice, "hopper")
    first = _role(server, alice, "first", _trust(f"arn:aws:iam::{alice.account_id}:user/hopper"))
    second = _role(server, bob, "second", _trust(first))
    server.client(alice, "iam").put_role_policy(RoleName="first", PolicyName="hop", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": second}))
    session = server.assume(user, first)
    message = _error(lambda: server.client(session, "sts").assume_role(RoleArn=second, RoleSessionName="s2",
                                                                       DurationSeconds=7200), "ValidationError", 400)
    assert "role chaining" in message
    chained = server.assume(session, second, "s2")
    assert server.client(chained, "sts").get_caller_identity()["Arn"] == \
        f"arn:aws:sts::{bob.account_id}:assumed-role/second/s2"


def test_duration_and_session_name(server, alice):
    user = server.new_user(alice, "timer")
    trust = _trust(f"arn:aws:iam::{alice.account_id}:user/timer")
    short = _role(server, alice, "short", trust)
    long = _role(server, alice, "long", trust, MaxSessionDuration=4 * 3600)
    sts = server.client(user, "sts")
    assert "MaxSessionDuration" in _error(lambda: sts.assume_role(RoleArn=short, RoleSessionName="s1",
                                                                  DurationSeconds=7200), "ValidationError", 400)
    before = time.time()
    expiration = sts.assume_role(RoleArn=long, RoleSessionName="s1", DurationSeconds=7200)["Credentials"]["Expiration"]
    assert abs(expiration.timestamp() - (before + 7200)) < 30
    unchecked = boto3.client("sts", region_name="us-east-1", endpoint_url=server.endpoint,
                             config=CLIENT_CONFIG.merge(botocore.config.Config(parameter_validation=False)),
                             aws_access_key_id=user.access_key_id, aws_secret_access_key=user.secret_access_key)
    assert "900" in _error(lambda: unchecked.assume_role(RoleArn=short, RoleSessionName="s1", DurationSeconds=899),
                           "ValidationError", 400)
    _error(lambda: unchecked.assume_role(RoleArn=short, RoleSessionName="bad name"), "ValidationError", 400)
    _error(lambda: unchecked.assume_role(RoleArn=short, RoleSessionName="x"), "ValidationError", 400)


def test_session_policies_and_tags(server, alice):
    user = server.new_user(alice, "scoped")
    role = _role(server, alice, "scoped", _trust(f"arn:aws:iam::{alice.account_id}:user/scoped"),
                 {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{alice.account_id}:user/scoped"},
                  "Action": "sts:TagSession"})
    server.client(alice, "iam").attach_role_policy(RoleName="scoped", PolicyArn=ADMIN)
    session_doc = _doc({"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"})
    answer = server.client(user, "sts").assume_role(
        RoleArn=role, RoleSessionName="s1", Policy=session_doc,
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"}], Tags=[{"Key": "job", "Value": "7"}])
    assert 0 < answer["PackedPolicySize"] <= 100
    session_key = answer["Credentials"]["AccessKeyId"]
    _error(lambda: server.client(user, "sts").assume_role(RoleArn=role, RoleSessionName="s1", Policy=_doc(
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Principal": "*"})), "MalformedPolicyDocument", 400)
    with _Db(server) as store, store.transaction(write=False) as conn:
        principal = iam_domain.credential(conn, session_key).principal
        assert principal.tag("JOB") == "7" and principal.kind == "assumed-role"
        stored = iam_domain.session_policy(conn, principal)
        actions = [s["Action"] for s in stored["Statement"]]
        assert "ec2:Describe*" in actions and ["ec2:Describe*", "ec2:GetSecurityGroupsForVpc"] in actions
        assert iam_domain.identity_policies(conn, principal)[0]["Statement"][0]["Action"] == "*"
        # the session policy narrows what the role's AdministratorAccess allows
        arn = f"arn:aws:ec2:us-east-1:{alice.account_id}:image/ami-12345678"
        assert authz.identity_allows(conn, principal, "ec2:DescribeImages", arn)
        assert not authz.identity_allows(conn, principal, "ec2:RunInstances", arn)


def test_policies_for_the_authorization_engine(server, alice):
    iam = server.client(alice, "iam")
    managed = iam.create_policy(PolicyName="kms-read", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "kms:List*", "Resource": "*"}))["Policy"]["Arn"]
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": ["ec2:*", "kms:*"], "Resource": "*"}))["Policy"]["Arn"]
    user = server.new_user(alice, "eng", [managed])
    iam.put_user_policy(UserName="eng", PolicyName="own", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}))
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="eng")
    iam.attach_group_policy(GroupName="devs", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess")
    iam.put_group_policy(GroupName="devs", PolicyName="no-delete", PolicyDocument=_doc(
        {"Effect": "Deny", "Action": "ec2:Deregister*", "Resource": "*"}))
    iam.put_user_permissions_boundary(UserName="eng", PermissionsBoundary=boundary)
    with _Db(server) as store, store.transaction(write=False) as conn:
        principal = iam_domain.credential(conn, user.access_key_id).principal
        assert principal.kind == "user" and principal.name == "eng"
        actions = sorted(str(d["Statement"][0]["Action"]) for d in iam_domain.identity_policies(conn, principal))
        assert actions == sorted(["ec2:DescribeImages", "kms:List*", "ec2:Deregister*",
                                  str(json.loads(_iam_full_access(iam))["Statement"][0]["Action"])])
        assert iam_domain.permissions_boundary(conn, principal)["Statement"][0]["Action"] == ["ec2:*", "kms:*"]
        assert iam_domain.session_policy(conn, principal) is None
        root = iam_domain.credential(conn, alice.access_key_id).principal
        assert root.is_root and iam_domain.identity_policies(conn, root) == []
        assert iam_domain.permissions_boundary(conn, root) is None
        allows = lambda action: authz.identity_allows(conn, principal, action, "*")  # noqa: E731
        assert allows("ec2:DescribeImages") and allows("kms:ListKeys")
        assert not allows("iam:CreateUser")  # IAMFullAccess allows it, the boundary doesn't
        assert not allows("ec2:DeregisterImage") and not allows("ec2:RunInstances")
        context = iam_domain.principal_context(conn, principal)
        assert context["aws:username"] == ["eng"] and context["aws:principaltype"] == ["User"]


def _iam_full_access(iam):
    return json.dumps(iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess",
                                             VersionId="v2")["PolicyVersion"]["Document"])


def _signed(server, account, service, body, sign_token=True, token=None):
    creds = botocore.credentials.Credentials(account.access_key_id, account.secret_access_key,
                                             account.session_token if sign_token else None)
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(creds, service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = dict(prepared.headers)
    if token is not None:
        headers["X-Amz-Security-Token"] = token
    try:
        with urllib.request.urlopen(urllib.request.Request(prepared.url, data=body, headers=headers)) as resp:
            return resp.status, resp.read().decode()
    except HTTPError as exc:
        return exc.code, exc.read().decode()


def test_temporary_credentials_need_their_token(server, alice):
    user = server.new_user(alice, "tok")
    session = server.assume(user, _role(server, alice, "tok", _trust(f"arn:aws:iam::{alice.account_id}:user/tok")))
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    status, text = _signed(server, session, "sts", body)
    assert status == 200 and "assumed-role/tok" in text
    for broken in (Account(session.account_id, session.access_key_id, session.secret_access_key),
                   Account(session.account_id, session.access_key_id, session.secret_access_key, "forged" * 20)):
        _error(server.client(broken, "sts").get_caller_identity, "InvalidClientTokenId", 403)
        _error(lambda: server.client(broken).describe_images(Owners=["self"]), "AuthFailure", 401)
    # the token header must be signed
    status, text = _signed(server, session, "sts", body, sign_token=False, token=session.session_token)
    assert status == 403 and "x-amz-security-token" in text
    # a long-term key never carries a session token
    with_token = Account(user.account_id, user.access_key_id, user.secret_access_key, session.session_token)
    _error(server.client(with_token, "sts").get_caller_identity, "InvalidClientTokenId", 403)
    # presigned: the token travels in the (signed) query string
    creds = botocore.credentials.Credentials(session.access_key_id, session.secret_access_key, session.session_token)
    request = botocore.awsrequest.AWSRequest(
        method="GET", url=server.endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15")
    botocore.auth.SigV4QueryAuth(creds, "sts", "us-east-1", expires=300).add_auth(request)
    assert "X-Amz-Security-Token" in request.url
    with urllib.request.urlopen(request.url) as resp:
        assert resp.status == 200 and "assumed-role/tok" in resp.read().decode()


def test_temporary_credentials_authenticate_and_expire(server, alice):
    """The session authenticates for EC2, KMS and STS and acts with its role's policies until it
    expires. Expiry is simulated by moving the stored expiration into the past."""
    user = server.new_user(alice, "temp")
    role = _role(server, alice, "temp", _trust(f"arn:aws:iam::{alice.account_id}:user/temp"))
    server.client(alice, "iam").attach_role_policy(RoleName="temp", PolicyArn=ADMIN)
    session = server.assume(user, role)
    assert server.client(session, "sts").get_caller_identity()["Account"] == alice.account_id
    assert server.client(session).describe_images(Owners=["self"])["Images"] == []
    assert "Keys" in server.client(session, "kms").list_keys()
    _expire(server, session)
    assert "expired" in _error(server.client(session, "sts").get_caller_identity, "ExpiredToken", 403)
    _error(lambda: server.client(session, "iam").list_users(), "ExpiredToken", 403)
    _error(lambda: server.client(session).describe_images(Owners=["self"]), "RequestExpired", 400)
    _error(lambda: server.client(session, "kms").list_keys(), "ExpiredTokenException", 403)
    code, _, err = server.aws(session, "ec2", "describe-images", "--owners", "self", check=False)
    assert code != 0 and "RequestExpired" in err


def test_sessions_of_a_deleted_role_stop(server, alice):
    user = server.new_user(alice, "del")
    role = _role(server, alice, "gone", _trust(f"arn:aws:iam::{alice.account_id}:user/del"))
    session = server.assume(user, role)
    server.client(alice, "iam").delete_role(RoleName="gone")
    _error(server.client(session, "sts").get_caller_identity, "InvalidClientTokenId", 403)
