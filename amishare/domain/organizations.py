"""AWS Organizations: the tree of roots, OUs and accounts that org and OU launch
permissions (and key policy conditions) are evaluated against, live; and the
service control policies that apply to an account, level by level down that tree
(`scp_levels`, `evaluate_scps`). The policy API itself is in org_policies.py."""

import json
import re
import secrets
import string
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

from amishare.domain import accounts, ids, pagination, policy
from amishare.domain.listing import Listing
from amishare.errors import AwsError
from amishare.store import accounts as account_store
from amishare.store import generations
from amishare.store import org_policies as policy_store
from amishare.store import organizations as store
from amishare.store.db import transaction_memo

_ALNUM = string.ascii_lowercase + string.digits
MAX_DEPTH = 5
HANDSHAKE_DAYS = 15
PARENT_RE = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
OU_RE = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")

SCP = "SERVICE_CONTROL_POLICY"
# The AWS managed SCP: one policy for every organization, attached to the root, every OU
# and every account while SCPs are enabled.
FULL_AWS_ACCESS_ID = "p-FullAWSAccess"
FULL_AWS_ACCESS_NAME = "FullAWSAccess"
FULL_AWS_ACCESS_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
FULL_AWS_ACCESS_DESCRIPTION = "Allows access to every operation"
FULL_AWS_ACCESS_CONTENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, indent=2)


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


@dataclass(frozen=True)
class PrincipalOrg:
    org_id: str
    management_account_id: str
    parent_path: str  # "r-ab12/ou-ab12-11111111/"

    @property
    def org_arn(self) -> str:
        return f"arn:aws:organizations::{self.management_account_id}:organization/{self.org_id}"

    @property
    def ou_ids(self) -> list[str]:
        return [part for part in self.parent_path.split("/") if part.startswith("ou-")]

    @property
    def ou_arns(self) -> list[str]:
        return [ou_arn(self.management_account_id, self.org_id, ou) for ou in self.ou_ids]

    @property
    def org_path(self) -> str:
        """aws:PrincipalOrgPaths value: o-.../r-.../ou-.../"""
        return f"{self.org_id}/{self.parent_path}"


def principal_org(conn, account_id: str, generation: int | None = None) -> PrincipalOrg | None:
    """The organization and OUs `account_id` is in, or None (see `account_org` for `generation`)."""
    return account_org(conn, account_id, generation).membership


def org_arn(management: str, org_id: str) -> str:
    return f"arn:aws:organizations::{management}:organization/{org_id}"


def ou_arn(management: str, org_id: str, ou_id: str) -> str:
    return f"arn:aws:organizations::{management}:ou/{org_id}/{ou_id}"


def _not_in_use() -> AwsError:
    return AwsError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")


def _denied() -> AwsError:
    return AwsError("AccessDeniedException", "You don't have permissions to access this resource.")


def _my_org(ctx):
    member = store.membership(ctx.conn, ctx.account_id)
    if member is None:
        raise _not_in_use()
    return store.org_by_id(ctx.conn, member["org_id"])


def managed_org(ctx):
    org = _my_org(ctx)
    if org["management_account_id"] != ctx.account_id:
        raise _denied()
    return org


def _email_of(conn, account_id: str) -> str:
    row = account_store.get_account(conn, account_id)
    return (row and row["email"]) or f"account-{account_id}@example.com"


def _name_of(conn, account_id: str) -> str:
    row = account_store.get_account(conn, account_id)
    return (row and row["name"]) or account_id


# --- shapes


def organization_shape(ctx, org) -> dict:
    mgmt = org["management_account_id"]
    # AWS reports SCPs (and only SCPs) as available in every organization with all features,
    # whether or not they are enabled in the root; ListRoots tells that.
    available = [{"Type": SCP, "Status": "ENABLED"}] if org["feature_set"] == "ALL" else []
    return {
        "Id": org["org_id"], "Arn": org_arn(mgmt, org["org_id"]), "FeatureSet": org["feature_set"],
        "MasterAccountArn": f"arn:aws:organizations::{mgmt}:account/{org['org_id']}/{mgmt}",
        "MasterAccountId": mgmt, "MasterAccountEmail": _email_of(ctx.conn, mgmt),
        "AvailablePolicyTypes": available,
    }


def root_arn(org) -> str:
    return f"arn:aws:organizations::{org['management_account_id']}:root/{org['org_id']}/{org['root_id']}"


def root_shape(ctx, org) -> dict:
    node = store.node(ctx.conn, org["root_id"])
    types = [{"Type": t, "Status": "ENABLED"} for t in policy_store.enabled_types(ctx.conn, org["org_id"])]
    return {"Id": node["node_id"], "Arn": root_arn(org), "Name": node["name"], "PolicyTypes": types}


def account_arn(org, account_id) -> str:
    return f"arn:aws:organizations::{org['management_account_id']}:account/{org['org_id']}/{account_id}"


def _ou_shape(org, node) -> dict:
    return {"Id": node["node_id"], "Arn": ou_arn(org["management_account_id"], org["org_id"], node["node_id"]),
            "Name": node["name"], "Path": f"{org['org_id']}/{node['path']}"}


def _account_shape(org, member) -> dict:
    return {
        "Id": member["account_id"], "Arn": account_arn(org, member["account_id"]),
        "Email": member["email"], "Name": member["name"], "Status": "ACTIVE", "State": "ACTIVE",
        "JoinedMethod": member["joined_method"], "JoinedTimestamp": member["joined_at"],
    }


def _handshake_shape(ctx, handshake) -> dict:
    org = store.org_by_id(ctx.conn, handshake["org_id"])
    mgmt = handshake["management_account_id"]
    state = handshake["state"]
    if state in ("REQUESTED", "OPEN") and handshake["expires_at"] <= ctx.now:
        state = "EXPIRED"
    resources = [
        {"Type": "ORGANIZATION", "Value": handshake["org_id"], "Resources": [
            {"Type": "MASTER_EMAIL", "Value": _email_of(ctx.conn, mgmt)},
            {"Type": "MASTER_NAME", "Value": _name_of(ctx.conn, mgmt)},
            {"Type": "ORGANIZATION_FEATURE_SET", "Value": org["feature_set"] if org else "ALL"},
        ]},
        {"Type": "ACCOUNT", "Value": handshake["target_account_id"]},
    ]
    if handshake["notes"]:
        resources.append({"Type": "NOTES", "Value": handshake["notes"]})
    return {
        "Id": handshake["handshake_id"],
        "Arn": f"arn:aws:organizations::{mgmt}:handshake/{handshake['org_id']}/invite/{handshake['handshake_id']}",
        "Parties": [{"Id": handshake["org_id"], "Type": "ORGANIZATION"},
                    {"Id": handshake["target_account_id"], "Type": "ACCOUNT"}],
        "State": state, "RequestedTimestamp": handshake["requested_at"],
        "ExpirationTimestamp": handshake["expires_at"], "Action": "INVITE", "Resources": resources,
    }


# --- organization


def create_organization(ctx, feature_set: str | None) -> dict:
    if store.membership(ctx.conn, ctx.account_id) is not None:
        raise AwsError("AlreadyInOrganizationException",
                       "The AWS account is already a member of an organization.")
    org_id = "o-" + _rand(10)
    root_id = "r-" + _rand(4)
    store.insert_org(ctx.conn, org_id=org_id, management_account_id=ctx.account_id,
                     feature_set=feature_set or "ALL", root_id=root_id, created_at=ctx.now)
    store.insert_node(ctx.conn, node_id=root_id, org_id=org_id, kind="root", parent_id=None, name="Root",
                      path=f"{root_id}/", created_at=ctx.now)
    store.insert_member(ctx.conn, account_id=ctx.account_id, org_id=org_id, parent_id=root_id,
                        email=_email_of(ctx.conn, ctx.account_id), name=_name_of(ctx.conn, ctx.account_id),
                        joined_method="CREATED", joined_at=ctx.now)
    return organization_shape(ctx, store.org_by_id(ctx.conn, org_id))


def describe_organization(ctx) -> dict:
    return organization_shape(ctx, _my_org(ctx))


def delete_organization(ctx) -> None:
    org = managed_org(ctx)
    if store.count_members(ctx.conn, org["org_id"]) > 1:
        raise AwsError("OrganizationNotEmptyException",
                       "To delete an organization you must first remove all member accounts (except the management account).")
    store.delete_org(ctx.conn, org["org_id"])
    _settle(ctx, None, ctx.account_id)


def list_roots(ctx) -> list[dict]:
    return [root_shape(ctx, managed_org(ctx))]


# --- policies follow the tree: a new OU or account gets FullAWSAccess where SCPs are
# enabled, as on AWS; an OU or account that leaves takes its attachments and tags along.


def _adopt(ctx, org_id, target_id) -> None:
    policy_store.lock_org(ctx.conn, org_id, share=True)  # not concurrently with Enable/DisablePolicyType
    if policy_store.type_enabled(ctx.conn, org_id, SCP):
        policy_store.attach(ctx.conn, org_id, FULL_AWS_ACCESS_ID, SCP, [target_id], ctx.now)


def _forget(ctx, org_id, target_id) -> None:
    policy_store.lock_org(ctx.conn, org_id, share=True)  # not concurrently with AttachPolicy
    policy_store.forget_target(ctx.conn, target_id)


def _settle(ctx, org_id, account_id) -> None:
    """The account's declarative policies changed with its place in the tree: settle their stored effects."""
    from amishare.domain import declarative_effects  # it reads the guardrails, which read this module

    declarative_effects.settle_member(ctx, org_id, account_id)


# --- organizational units


def _parent(ctx, org, parent_id, error="ParentNotFoundException"):
    if not PARENT_RE.fullmatch(parent_id or ""):
        raise AwsError("InvalidInputException", f"Invalid parent id: {parent_id}")
    node = store.node(ctx.conn, parent_id)
    if node is None or node["org_id"] != org["org_id"]:
        raise AwsError(error, "We can't find a root or OU with the ParentId that you specified.")
    return node


def _ou(ctx, org, ou_id):
    if not OU_RE.fullmatch(ou_id or ""):
        raise AwsError("InvalidInputException", f"Invalid organizational unit id: {ou_id}")
    node = store.node(ctx.conn, ou_id)
    if node is None or node["org_id"] != org["org_id"] or node["kind"] != "ou":
        raise AwsError("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")
    return node


def create_ou(ctx, parent_id, name) -> dict:
    org = managed_org(ctx)
    parent = _parent(ctx, org, parent_id)
    if not name or len(name) > 128:
        raise AwsError("InvalidInputException", "The OU name must be 1 to 128 characters.")
    if parent["path"].count("ou-") >= MAX_DEPTH:
        raise AwsError("ConstraintViolationException",
                       "You have reached the maximum depth of OUs (5) in the organization. (OU_DEPTH_LIMIT_EXCEEDED)")
    if store.unit_named(ctx.conn, parent_id, name) is not None:
        raise AwsError("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
    ou_id = f"ou-{org['root_id'][2:]}-{_rand(8)}"
    store.insert_node(ctx.conn, node_id=ou_id, org_id=org["org_id"], kind="ou", parent_id=parent_id, name=name,
                      path=f"{parent['path']}{ou_id}/", created_at=ctx.now)
    _adopt(ctx, org["org_id"], ou_id)
    return _ou_shape(org, store.node(ctx.conn, ou_id))


def describe_ou(ctx, ou_id) -> dict:
    org = managed_org(ctx)
    return _ou_shape(org, _ou(ctx, org, ou_id))


def update_ou(ctx, ou_id, name) -> dict:
    org = managed_org(ctx)
    node = _ou(ctx, org, ou_id)
    if name and name != node["name"]:
        if store.unit_named(ctx.conn, node["parent_id"], name) is not None:
            raise AwsError("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
        store.update_node(ctx.conn, ou_id, name=name)
    return _ou_shape(org, store.node(ctx.conn, ou_id))


def delete_ou(ctx, ou_id) -> None:
    org = managed_org(ctx)
    _ou(ctx, org, ou_id)
    if store.has_children(ctx.conn, ou_id):
        raise AwsError("OrganizationalUnitNotEmptyException",
                       "The specified OU is not empty. Move all accounts to another root or OU and delete all child OUs.")
    _forget(ctx, org["org_id"], ou_id)
    store.delete_node(ctx.conn, ou_id)


def after_token(token, fp, position=None):
    """Where a NextToken resumes; a forged or stale one is InvalidInputException (INVALID_NEXT_TOKEN)."""
    try:
        return pagination.decode(token, fp, position, code="InvalidInputException")
    except AwsError as exc:
        raise AwsError(exc.code, exc.message, fields={"Reason": "INVALID_NEXT_TOKEN"}) from None


def page_limit(max_results):
    if max_results is not None and not 1 <= max_results <= 20:
        reason = "MAX_VALUE_EXCEEDED" if max_results > 20 else "MIN_VALUE_EXCEEDED"
        raise AwsError("InvalidInputException", "MaxResults must be between 1 and 20.", fields={"Reason": reason})
    return max_results


OUS = Listing("ous", key="node_id", max_results=page_limit, read_token=after_token)
CHILD_ACCOUNTS = Listing("children", key="account_id", max_results=page_limit, read_token=after_token)
CHILD_UNITS = Listing("children", key="node_id", max_results=page_limit, read_token=after_token)
ACCOUNTS = Listing("accounts", key="account_id", max_results=page_limit, read_token=after_token)
HANDSHAKES = Listing("handshakes", key="handshake_id", max_results=page_limit, read_token=after_token)


def list_ous_for_parent(ctx, parent_id, max_results, token):
    org = managed_org(ctx)
    _parent(ctx, org, parent_id)
    query = OUS.request(ctx, max_results=max_results, next_token=token, criteria=(parent_id,))
    rows, next_token = query.page(store.child_units(ctx.conn, parent_id, query.after, query.fetch))
    return [_ou_shape(org, r) for r in rows], next_token


def list_children(ctx, parent_id, child_type, max_results, token):
    org = managed_org(ctx)
    _parent(ctx, org, parent_id)
    listing = CHILD_ACCOUNTS if child_type == "ACCOUNT" else CHILD_UNITS
    query = listing.request(ctx, max_results=max_results, next_token=token, criteria=(parent_id, child_type))
    if child_type == "ACCOUNT":
        rows, next_token = query.page(store.members(ctx.conn, parent_id=parent_id, after=query.after, limit=query.fetch))
        return [{"Id": r["account_id"], "Type": "ACCOUNT"} for r in rows], next_token
    rows, next_token = query.page(store.child_units(ctx.conn, parent_id, query.after, query.fetch))
    return [{"Id": r["node_id"], "Type": "ORGANIZATIONAL_UNIT"} for r in rows], next_token


def list_parents(ctx, child_id):
    org = managed_org(ctx)
    if ids.is_account_id(child_id):
        member = store.membership(ctx.conn, child_id)
        if member is None or member["org_id"] != org["org_id"]:
            raise AwsError("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
        parent_id = member["parent_id"]
    else:
        node = store.node(ctx.conn, child_id) if OU_RE.fullmatch(child_id or "") else None
        if node is None or node["org_id"] != org["org_id"]:
            raise AwsError("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
        parent_id = node["parent_id"]
    kind = "ROOT" if parent_id.startswith("r-") else "ORGANIZATIONAL_UNIT"
    return [{"Id": parent_id, "Type": kind}]


# --- accounts


def _member_of(ctx, org, account_id):
    if not ids.is_account_id(account_id):
        raise AwsError("InvalidInputException", f"Invalid account id: {account_id}")
    member = store.membership(ctx.conn, account_id)
    if member is None or member["org_id"] != org["org_id"]:
        raise AwsError("AccountNotFoundException", "You specified an account that doesn't exist.")
    return member


def list_accounts(ctx, max_results, token, parent_id=None):
    org = managed_org(ctx)
    if parent_id is not None:
        _parent(ctx, org, parent_id)
    query = ACCOUNTS.request(ctx, max_results=max_results, next_token=token, criteria=(parent_id,))
    rows, next_token = query.page(store.members(ctx.conn, org_id=org["org_id"], parent_id=parent_id,
                                                after=query.after, limit=query.fetch))
    return [_account_shape(org, r) for r in rows], next_token


def describe_account(ctx, account_id) -> dict:
    org = managed_org(ctx)
    return _account_shape(org, _member_of(ctx, org, account_id))


def move_account(ctx, account_id, source_id, destination_id) -> None:
    org = managed_org(ctx)
    member = _member_of(ctx, org, account_id)
    _parent(ctx, org, source_id, "SourceParentNotFoundException")
    _parent(ctx, org, destination_id, "DestinationParentNotFoundException")
    if member["parent_id"] != source_id:
        raise AwsError("AccountNotFoundException", "The account is not in the specified source parent.")
    if source_id == destination_id:
        raise AwsError("DuplicateAccountException", "That account is already present in the specified destination.")
    store.update_member(ctx.conn, account_id, parent_id=destination_id)
    _settle(ctx, org["org_id"], account_id)


def remove_account(ctx, account_id) -> None:
    org = managed_org(ctx)
    _member_of(ctx, org, account_id)
    if account_id == org["management_account_id"]:
        raise AwsError("MasterCannotLeaveOrganizationException",
                       "You can't remove the management account from an organization.")
    _forget(ctx, org["org_id"], account_id)
    store.delete_member(ctx.conn, account_id)
    _settle(ctx, org["org_id"], account_id)


def leave_organization(ctx) -> None:
    org = _my_org(ctx)
    if org["management_account_id"] == ctx.account_id:
        raise AwsError("MasterCannotLeaveOrganizationException",
                       "You can't remove the management account from an organization. Delete the organization instead.")
    _forget(ctx, org["org_id"], ctx.account_id)
    store.delete_member(ctx.conn, ctx.account_id)
    _settle(ctx, org["org_id"], ctx.account_id)


def create_account(ctx, email, name) -> dict:
    org = managed_org(ctx)
    request_id = "car-" + _rand(32)
    values = dict(request_id=request_id, org_id=org["org_id"], account_name=name, requested_at=ctx.now,
                  completed_at=ctx.now)
    if account_store.account_with_email(ctx.conn, email) is not None:
        store.insert_create_request(ctx.conn, state="FAILED", failure_reason="EMAIL_ALREADY_EXISTS", account_id=None, **values)
    else:
        creds = accounts.create_account(ctx.conn, ctx.secrets, name=name, email=email)
        store.insert_member(ctx.conn, account_id=creds.account_id, org_id=org["org_id"], parent_id=org["root_id"],
                            email=email, name=name, joined_method="CREATED", joined_at=ctx.now)
        _adopt(ctx, org["org_id"], creds.account_id)
        _settle(ctx, org["org_id"], creds.account_id)
        store.insert_create_request(ctx.conn, state="SUCCEEDED", failure_reason=None, account_id=creds.account_id, **values)
    return _create_status(store.create_request(ctx.conn, request_id))


def _create_status(row) -> dict:
    return {"Id": row["request_id"], "AccountName": row["account_name"], "State": row["state"],
            "RequestedTimestamp": row["requested_at"], "CompletedTimestamp": row["completed_at"],
            "AccountId": row["account_id"], "FailureReason": row["failure_reason"]}


def describe_create_account_status(ctx, request_id) -> dict:
    org = managed_org(ctx)
    row = store.create_request(ctx.conn, request_id)
    if row is None or row["org_id"] != org["org_id"]:
        raise AwsError("CreateAccountStatusNotFoundException", "We can't find a create account request with the CreateAccountRequestId that you specified.")
    return _create_status(row)


# --- handshakes


def invite(ctx, target, notes) -> dict:
    org = managed_org(ctx)
    if target.get("Type") != "ACCOUNT":
        raise AwsError("InvalidInputException", "Only invitations by account id (Type ACCOUNT) are supported.")
    target_id = target.get("Id", "")
    if not ids.is_account_id(target_id):
        raise AwsError("InvalidInputException", f"Invalid account id: {target_id}")
    if account_store.get_account(ctx.conn, target_id) is None:
        raise AwsError("AccountNotFoundException", "You specified an account that doesn't exist.")
    member = store.membership(ctx.conn, target_id)
    if member is not None:
        raise AwsError("HandshakeConstraintViolationException",
                       "The account is already a member of an organization. (ALREADY_IN_AN_ORGANIZATION)")
    if any(h["expires_at"] > ctx.now for h in store.open_handshakes(ctx.conn, org["org_id"], target_id)):
        raise AwsError("DuplicateHandshakeException", "A handshake with the same action and target already exists.")
    handshake_id = "h-" + _rand(10)
    store.insert_handshake(ctx.conn, handshake_id=handshake_id, org_id=org["org_id"],
                           management_account_id=ctx.account_id, target_account_id=target_id, state="OPEN",
                           notes=notes, requested_at=ctx.now, expires_at=ctx.now + HANDSHAKE_DAYS * 86400)
    return _handshake_shape(ctx, store.handshake(ctx.conn, handshake_id))


def _handshake(ctx, handshake_id):
    if not re.fullmatch(r"h-[0-9a-z]{8,32}", handshake_id or ""):
        raise AwsError("InvalidInputException", f"Invalid handshake id: {handshake_id}")
    row = store.handshake(ctx.conn, handshake_id)
    if row is None or ctx.account_id not in (row["target_account_id"], row["management_account_id"]):
        raise AwsError("HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified.")
    return row


def _open(ctx, row):
    if row["state"] not in ("OPEN", "REQUESTED") or row["expires_at"] <= ctx.now:
        state = "EXPIRED" if row["state"] in ("OPEN", "REQUESTED") else row["state"]
        raise AwsError("InvalidHandshakeTransitionException", f"You can't perform the operation on the handshake in its current state ({state}).")


def accept_handshake(ctx, handshake_id) -> dict:
    row = _handshake(ctx, handshake_id)
    if row["target_account_id"] != ctx.account_id:
        raise _denied()
    _open(ctx, row)
    if store.org_by_id(ctx.conn, row["org_id"]) is None:
        raise AwsError("HandshakeConstraintViolationException", "The organization no longer exists.")
    if store.membership(ctx.conn, ctx.account_id) is not None:
        raise AwsError("HandshakeConstraintViolationException",
                       "The account is already a member of an organization. (ALREADY_IN_AN_ORGANIZATION)")
    org = store.org_by_id(ctx.conn, row["org_id"])
    store.insert_member(ctx.conn, account_id=ctx.account_id, org_id=org["org_id"], parent_id=org["root_id"],
                        email=_email_of(ctx.conn, ctx.account_id), name=_name_of(ctx.conn, ctx.account_id),
                        joined_method="INVITED", joined_at=ctx.now)
    _adopt(ctx, org["org_id"], ctx.account_id)
    _settle(ctx, org["org_id"], ctx.account_id)
    store.update_handshake(ctx.conn, handshake_id, state="ACCEPTED")
    return _handshake_shape(ctx, store.handshake(ctx.conn, handshake_id))


def decline_handshake(ctx, handshake_id) -> dict:
    return _close_handshake(ctx, handshake_id, "target_account_id", "DECLINED")


def cancel_handshake(ctx, handshake_id) -> dict:
    return _close_handshake(ctx, handshake_id, "management_account_id", "CANCELED")


def _close_handshake(ctx, handshake_id, party: str, state: str) -> dict:
    """Decline (by the invited account) or cancel (by the management account) an open handshake."""
    row = _handshake(ctx, handshake_id)
    if row[party] != ctx.account_id:
        raise _denied()
    _open(ctx, row)
    store.update_handshake(ctx.conn, handshake_id, state=state)
    return _handshake_shape(ctx, store.handshake(ctx.conn, handshake_id))


def list_handshakes(ctx, for_org: bool, max_results, token):
    query = HANDSHAKES.request(ctx, max_results=max_results, next_token=token, criteria=(for_org,))
    if for_org:
        org = managed_org(ctx)
        rows = store.handshakes_for(ctx.conn, org_id=org["org_id"], after=query.after, limit=query.fetch)
    else:
        rows = store.handshakes_for(ctx.conn, target_account_id=ctx.account_id, after=query.after, limit=query.fetch)
    rows, next_token = query.page(rows)
    return [_handshake_shape(ctx, r) for r in rows], next_token


# --- service control policies, for the authorization engine


def _scp_document(policy_id: str, content: str | None) -> dict:
    return json.loads(FULL_AWS_ACCESS_CONTENT if policy_id == FULL_AWS_ACCESS_ID else content)


def scp_levels(conn, account_id: str, generation: int | None = None) -> list[list[tuple[str, dict]]] | None:
    """The SCPs that bound what `account_id` may do, level by level, read live from the tree.

    None when SCPs don't apply to the account: it is in no organization, it is the
    management account, or SCPs are not enabled in its organization's root. Otherwise one
    list per level, from the root down through each OU on the account's path to the account
    itself, each holding the (policy_id, parsed document) pairs attached directly there, in
    policy id order. An action is allowed by SCPs only if every level allows it and no
    level denies it (`evaluate_scps`). See `account_org` for how often it is read.
    """
    return account_org(conn, account_id, generation).scp_levels


@dataclass(frozen=True)
class AccountOrg:
    """An account's place in its organization, as authorization and launch permissions see it."""

    membership: PrincipalOrg | None
    scp_levels: list | None  # shared between requests: never changed once built


_NO_ORG = AccountOrg(None, None)
_KNOWN: OrderedDict = OrderedDict()  # (account, organizations generation) -> AccountOrg
_KNOWN_MAX = 10_000
_KNOWN_LOCK = threading.Lock()


def account_org(conn, account_id: str, generation: int | None = None) -> AccountOrg:
    """The account's organization, OUs and SCP levels: one indexed read, a second only for the
    SCPs of a member account whose organization enabled them.

    Read once per transaction. With `generation` (the organizations generation read with the
    caller's credential, store.generations), also remembered across requests in this worker
    until any organization changes: the change moves the generation in every worker. A
    transaction that changed an organization itself reads its own state live, and it is
    never remembered for others."""
    if generations.changed_here(conn, generations.ORGANIZATIONS):
        return _read_account_org(conn, account_id)
    memo = transaction_memo(conn)
    found = memo.get(("account_org", account_id))
    if found is not None:
        return found
    key = (account_id, generation)
    if generation is not None:
        with _KNOWN_LOCK:
            found = _KNOWN.get(key)
            if found is not None:
                _KNOWN.move_to_end(key)
    if found is None:
        found = _read_account_org(conn, account_id)
        if generation is not None:
            with _KNOWN_LOCK:
                _KNOWN[key] = found
                if len(_KNOWN) > _KNOWN_MAX:
                    _KNOWN.popitem(last=False)
    memo[("account_org", account_id)] = found
    return found


def _read_account_org(conn, account_id: str) -> AccountOrg:
    row = store.account_org(conn, account_id, SCP)
    if row is None:
        return _NO_ORG
    membership = PrincipalOrg(row["org_id"], row["management_account_id"], row["path"])
    if row["type_status"] is None or row["management_account_id"] == account_id:
        return AccountOrg(membership, None)
    targets = [part for part in row["path"].split("/") if part] + [account_id]
    levels: dict[str, list[tuple[str, dict]]] = {target: [] for target in targets}
    for target_id, policy_id, content in policy_store.attached_on_path(conn, row["org_id"], targets, SCP):
        levels[target_id].append((policy_id, _scp_document(policy_id, content)))
    return AccountOrg(membership, [levels[target] for target in targets])


class ScpStatement(NamedTuple):
    level: int  # index into the levels: 0 is the root, the last is the account
    policy_id: str
    statement: dict


def evaluate_scps(levels, action: str, resource: str, context: dict | None = None) -> tuple[str, list[ScpStatement]]:
    """Decide one request against `scp_levels(...)`; returns (decision, matched statements).

    - (policy.DENY, the Deny statements that match): a policy at some level denies it;
    - (policy.ALLOW, the Allow statements that match, every level represented): allowed;
    - (policy.NOT_APPLICABLE, the Allow statements that match): some level allows nothing
      of it, an implicit deny; the levels missing from the statements are the ones that
      don't allow it.
    `levels` None (SCPs don't apply) is (policy.ALLOW, []). `context` maps condition keys
    (any case) to a value or a list of values. A statement whose condition uses an operator
    the engine can't evaluate counts as matching when it denies and not when it allows, so
    an SCP never allows more than it says.
    """
    if levels is None:
        return policy.ALLOW, []
    values = {key.lower(): [str(v) for v in (value if isinstance(value, list) else [value])]
              for key, value in (context or {}).items() if value is not None}
    request = policy.Request("", action, resource, values)
    denies: list[ScpStatement] = []
    allows: list[ScpStatement] = []
    every_level_allows = True
    for level, attached in enumerate(levels):
        allowed_here = False
        for policy_id, document in attached:
            statements = document.get("Statement")
            for statement in statements if isinstance(statements, list) else [statements]:
                deny = statement.get("Effect") == policy.DENY
                try:
                    applies = policy.identity_statement_applies(statement, request)
                except policy.MalformedPolicy:
                    applies = deny
                if not applies:
                    continue
                (denies if deny else allows).append(ScpStatement(level, policy_id, statement))
                allowed_here = allowed_here or not deny
        every_level_allows = every_level_allows and allowed_here
    if denies:
        return policy.DENY, denies
    return (policy.ALLOW if every_level_allows else policy.NOT_APPLICABLE), allows
