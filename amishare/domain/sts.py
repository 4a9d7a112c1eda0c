"""AWS STS: who is calling, and AssumeRole.

AssumeRole is decided as AWS decides it. The role's trust policy is a resource
policy: an explicit Deny refuses; it must allow the caller, by its own ARN (a
user, the role of a calling session, the session itself), its account or `*`.
The caller's own policies are evaluated too (`authz.decide`, as for every call): an
explicit Deny there refuses; an Allow there is required when the role is in
another account, or when the trust policy allows the caller only through its
account. The account's root user can't assume roles.
"""

import base64
import hashlib
import json
import os
import re

from amishare.domain import accounts, authz, iam, iam_policies, policy
from amishare.domain import iam_common as common
from amishare.errors import AwsError
from amishare.store import iam as store

DEFAULT_DURATION = 3600
CHAINED_MAX_DURATION = 3600
SESSION_RETENTION = 24 * 3600  # expired sessions are kept a day, to answer ExpiredToken
MAX_SESSION_POLICY_ARNS = 10
PACKED_POLICY_LIMIT = 2048
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)", re.ASCII)


def caller_identity(ctx) -> dict:
    principal = ctx.principal
    return {"UserId": principal.unique_id, "Account": principal.account_id, "Arn": principal.arn}


def _denied(ctx, role_arn: str, action: str = "sts:AssumeRole") -> AwsError:
    return common.access_denied(ctx.principal.arn, action, role_arn)


def _role(ctx, role_arn: str):
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise AwsError("ValidationError", f"{role_arn} is invalid")
    account_id, path, name = match.groups()
    row = store.entity_by_name(ctx.conn, "role", account_id, name)
    if row is None or row["name"] != name or row["path"] != path:
        raise _denied(ctx, role_arn)
    return row


def _session_policy(ctx, role, text: str | None, arns: list[str]) -> str | None:
    """The session policies, inline and managed, merged into one document (a union of their statements)."""
    if not text and not arns:
        return None
    statements = []
    if text:
        statements += common.as_list(policy.validate_document(text, resource_policy=False)["Statement"])
    if len(arns) > MAX_SESSION_POLICY_ARNS:
        raise AwsError("ValidationError", f"The number of session policies exceeds {MAX_SESSION_POLICY_ARNS}.")
    for arn in arns:
        managed = iam_policies.lookup(ctx.conn, role["account_id"], arn)
        if managed is None:
            raise AwsError("InvalidParameterValue", f"Policy {arn} does not exist or is not attachable.")
        statements += common.as_list(json.loads(iam_policies.document(ctx.conn, managed))["Statement"])
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _packed_size(policy_text: str | None, tags: list[dict]) -> int:
    """How much of the packed session policy and tags quota the request uses, in percent."""
    packed = len(json.dumps(json.loads(policy_text), separators=(",", ":"))) if policy_text else 0
    packed += sum(len(t["Key"]) + len(t["Value"]) for t in tags)
    return max(1, packed * 100 // PACKED_POLICY_LIMIT)


def assume_role(ctx, params: dict) -> dict:
    principal = ctx.principal
    role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
    if principal.is_root:
        raise AwsError("AccessDenied", "Roles may not be assumed by root accounts.", 403)
    role = _role(ctx, role_arn)
    duration = params.get("DurationSeconds") or DEFAULT_DURATION
    if principal.kind == iam.ASSUMED_ROLE and duration > CHAINED_MAX_DURATION:
        raise AwsError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                                          "assumed by role chaining.")
    if duration > role["max_session_duration"]:
        raise AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                                          "role.")
    tags = params.get("Tags") or []
    session_tags = common.merge_tags([], tags, "Session")
    context = iam.principal_context(ctx.conn, principal, ctx.now)
    context["sts:rolesessionname"] = [session_name]
    context["aws:requestedregion"] = [ctx.region]
    if params.get("ExternalId") is not None:
        context["sts:externalid"] = [params["ExternalId"]]
    if tags:
        context["aws:tagkeys"] = [t["Key"] for t in tags]
        for t in tags:
            context[f"aws:requesttag/{t['Key'].lower()}"] = [t["Value"]]
    arn = common.row_arn("role", role)
    actions = ["sts:AssumeRole"] + (["sts:TagSession"] if tags else [])
    trust = policy.compile_stored(json.loads(role["trust_policy"]))
    levels = authz.scp_levels(ctx.conn, principal)
    for action in actions:
        # The trust policy is the role's resource policy, and the only authority over who may
        # assume it: naming the caller allows in its own account; naming its account delegates
        # to the caller's own policies; across accounts both must allow.
        target = authz.Target(action, arn, role["account_id"], trust, policy_required=True)
        if not authz.decide(ctx.conn, principal, target, context, levels).allowed:
            raise _denied(ctx, role_arn, action)
    session_policy = _session_policy(ctx, role, params.get("Policy"), [p["arn"] for p in params.get("PolicyArns") or []])
    return _open_session(ctx, role, session_name, duration, session_policy, session_tags, tags)


def _open_session(ctx, role, session_name: str, duration: int, session_policy, session_tags, tags) -> dict:
    key_id, secret = accounts.new_access_key_id("ASIA"), accounts.new_secret()
    token = base64.b64encode(os.urandom(96)).decode()
    expires = ctx.now + duration
    store.delete_sessions(ctx.conn, role["role_id"], expired_before=ctx.now - SESSION_RETENTION)
    store.insert_session(
        ctx.conn, access_key_id=key_id, account_id=role["account_id"], role_id=role["role_id"],
        session_name=session_name, secret_ciphertext=ctx.secrets.seal(secret, key_id), token_hash=token_digest(token),
        session_policy=session_policy, session_tags=json.dumps(session_tags), source_arn=ctx.principal.arn,
        created_at=ctx.now, expires_at=expires)
    result = {
        "Credentials": {"AccessKeyId": key_id, "SecretAccessKey": secret, "SessionToken": token, "Expiration": expires},
        "AssumedRoleUser": {"AssumedRoleId": f"{role['role_id']}:{session_name}",
                            "Arn": iam.session_arn(role["account_id"], role["name"], session_name)},
    }
    if session_policy or tags:
        result["PackedPolicySize"] = _packed_size(session_policy, tags)
    return result


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
