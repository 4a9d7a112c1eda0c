"""IAM as the authorization engine sees it: who a credential belongs to, and which
policies govern a principal.

- `credential(conn, access_key_id)`: a key (long-term AKIA…, or a session's
  ASIA…) and the principal it signs for, in one indexed read;
- `identity_policies`, `permissions_boundary`, `session_policy`: the parsed
  documents that apply to a principal (the account's root user is governed by
  none of them);
- `principal_context`: the aws:Principal* condition keys of a principal;
Combining them into a decision is `authz`'s, the one place that does.
"""

import json
import time
from dataclasses import dataclass

from amishare.domain import iam_policies, organizations
from amishare.domain import iam_common as common
from amishare.domain.principal import Principal
from amishare.store import iam as store
from amishare.store import settings as settings_store

ROOT, USER, ASSUMED_ROLE = "root", "user", "assumed-role"


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_ciphertext: str
    active: bool
    principal: Principal
    token_hash: str | None = None  # temporary credentials only
    expires_at: float | None = None


def session_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def credential(conn, access_key_id: str) -> Credential | None:
    """The stored credential and its principal, or None for a key that doesn't exist."""
    if access_key_id.startswith("ASIA"):
        row = store.session_with_role(conn, access_key_id)
        if row is None:
            return None
        tags = dict(common.tag_pairs(row["role_tags"]))
        tags.update(common.tag_pairs(row["session_tags"]))  # session tags win over the role's
        principal = Principal(
            row["account_id"], ASSUMED_ROLE, session_arn(row["account_id"], row["role_name"], row["session_name"]),
            f"{row['role_id']}:{row['session_name']}", row["role_name"], row["session_name"], access_key_id,
            tuple(tags.items()), row["policy_generation"], **_generations(row),
            issuer_arn=common.arn(row["account_id"], "role", row["role_path"], row["role_name"]),
            session_created_at=row["created_at"])
        return Credential(access_key_id, row["secret_ciphertext"], True, principal, row["token_hash"],
                          row["expires_at"])
    row = store.key_with_user(conn, access_key_id)
    if row is None:
        return None
    if row["user_id"] is None:
        principal = Principal.root(row["account_id"], access_key_id, **_generations(row))
    else:
        principal = Principal(row["account_id"], USER, common.arn(row["account_id"], "user", row["path"], row["name"]),
                              row["user_id"], row["name"], None, access_key_id, common.tag_pairs(row["tags"]),
                              row["policy_generation"], **_generations(row))
    return Credential(access_key_id, row["secret_ciphertext"], row["status"] == "Active", principal)


def _generations(row) -> dict:
    """The generations of the caches a request may use (store.generations), read with the credential."""
    return {"org_generation": row["org_generation"], "allowed_images_generation": row["allowed_images_generation"]}


def _role_id(principal: Principal) -> str:
    return principal.unique_id.split(":", 1)[0]


def role_arn(conn, principal: Principal) -> str | None:
    """The ARN (with its path) of the role a session belongs to."""
    role = store.entity_by_id(conn, "role", _role_id(principal))
    return common.row_arn("role", role) if role else None


def _documents(conn, kind: str, entity_ids: list[str], account_id: str) -> list[dict]:
    inline = [json.loads(row["document"]) for row in store.inline_of(conn, kind, entity_ids)]
    arns = [row["policy_arn"] for row in store.attached(conn, kind, entity_ids)]
    return inline + iam_policies.default_documents(conn, account_id, arns)


def identity_policies(conn, principal: Principal) -> list[dict]:
    """The identity-based policies that apply to `principal`, parsed: a user's inline and
    attached managed policies (default versions) and those of its groups; a session's,
    its role's. Session policies and permissions boundaries are not among them."""
    if principal.kind == USER:
        group_ids = [group["group_id"] for group in store.groups_of(conn, principal.unique_id)]
        return (_documents(conn, "user", [principal.unique_id], principal.account_id)
                + _documents(conn, "group", group_ids, principal.account_id))
    if principal.kind == ASSUMED_ROLE:
        return _documents(conn, "role", [_role_id(principal)], principal.account_id)
    return []


def permissions_boundary(conn, principal: Principal) -> dict | None:
    """The parsed default version of the user's (or the session's role's) permissions boundary."""
    if principal.kind == USER:
        row = store.entity_by_id(conn, "user", principal.unique_id)
    elif principal.kind == ASSUMED_ROLE:
        row = store.entity_by_id(conn, "role", _role_id(principal))
    else:
        return None
    if row is None or not row["boundary_arn"]:
        return None
    documents = iam_policies.default_documents(conn, principal.account_id, [row["boundary_arn"]])
    return documents[0] if documents else None


def session_policy(conn, principal: Principal) -> dict | None:
    """The session policies passed to AssumeRole (inline and managed), as one document, or None."""
    if principal.kind != ASSUMED_ROLE or not principal.access_key_id:
        return None
    row = store.session(conn, principal.access_key_id)
    return json.loads(row["session_policy"]) if row and row["session_policy"] else None


def principal_arns(conn, principal: Principal) -> tuple[str, ...]:
    """The ARNs a Principal element can name the caller by (besides its account)."""
    if principal.kind == ASSUMED_ROLE:
        arn = role_arn(conn, principal)
        return (principal.arn,) + ((arn,) if arn else ())
    if principal.kind == USER:
        return (principal.arn,)
    return ()


UNREAD = object()  # principal_context reads the caller's organization itself


def principal_context(conn, principal: Principal, now: float | None = None, membership=UNREAD) -> dict[str, list[str]]:
    """The global condition keys that describe the caller (keys in lower case). `membership` is the
    caller's organization (organizations.principal_org) when the call has read it already."""
    now = time.time() if now is None else now
    context = {
        "aws:principalaccount": [principal.account_id],
        "aws:principaltype": [{ROOT: "Account", USER: "User", ASSUMED_ROLE: "AssumedRole"}[principal.kind]],
        "aws:userid": [principal.unique_id],
        "aws:principalisawsservice": ["false"],
        "aws:currenttime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))],
        "aws:epochtime": [str(int(now))],
    }
    if principal.kind == ASSUMED_ROLE:
        context["aws:principalarn"] = [role_arn(conn, principal) or principal.arn]
    else:
        context["aws:principalarn"] = [principal.arn]
    if principal.kind == USER:
        context["aws:username"] = [principal.name]
    for key, value in principal.tags:
        context[f"aws:principaltag/{key.lower()}"] = [value]
    if membership is UNREAD:
        membership = organizations.principal_org(conn, principal.account_id, principal.org_generation)
    if membership is not None:
        context["aws:principalorgid"] = [membership.org_id]
        context["aws:principalorgpaths"] = [membership.org_path]
    return context


def policies_changed(conn, account_id: str) -> None:
    """Every IAM change in an account moves its policy generation, so that what was cached
    about its principals' policies (`authz`) is read again, in every worker."""
    settings_store.add_to_counter(conn, account_id, "global", store.POLICY_GENERATION, 1)
