"""Organizations policies: service control policies (SCPs), declarative policies for
EC2, and the API that manages them. Only the management account may call it, except
DescribeEffectivePolicy, which any account of the organization may call for itself.

SCPs are enabled in the root (EnablePolicyType), which attaches the AWS managed
FullAWSAccess policy to the root, every OU and every account; every target keeps at
least one SCP and at most five. What the attached SCPs mean for a request is answered by
organizations.scp_levels / evaluate_scps. Declarative policies for EC2
(DECLARATIVE_POLICY_EC2) have no AWS managed policy, up to ten per target and none
required; their language and effective policy are declarative_policies.py's.

Other policy types (tag, backup, resource control policies, ...) are not
implemented: enabling or creating them is refused with
PolicyTypeNotAvailableForOrganizationException, and listing them finds none.
"""

import json
import re
import secrets
import string

from dataclasses import dataclass

from amishare.domain import declarative_effects, declarative_policies, pagination, policy
from amishare.domain.listing import Listing
from amishare.domain.organizations import (
    FULL_AWS_ACCESS_ARN,
    FULL_AWS_ACCESS_CONTENT,
    FULL_AWS_ACCESS_DESCRIPTION,
    FULL_AWS_ACCESS_ID,
    FULL_AWS_ACCESS_NAME,
    OU_RE,
    SCP,
    account_arn,
    after_token,
    managed_org,
    page_limit,
    ou_arn,
    root_arn,
    root_shape,
)
from amishare.errors import AwsError
from amishare.store import org_policies as store
from amishare.store import organizations as org_store

SCP_MAX_CHARS = 5120  # every character of the document counts, white space included
DECLARATIVE = declarative_policies.POLICY_TYPE
MAX_TAGS = 50
SCP_VERSION = "2012-10-17"
POLICY_ID_RE = re.compile(r"^p-[0-9a-zA-Z_]{8,128}$")
ROOT_RE = re.compile(r"^r-[0-9a-z]{4,32}$")
TARGET_RE = re.compile(r"^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_TAG_PUNCTUATION = set("_.:/=+-@")


def _invalid(reason: str, message: str) -> AwsError:
    return AwsError("InvalidInputException", message, fields={"Reason": reason})


def _constraint(reason: str, message: str) -> AwsError:
    return AwsError("ConstraintViolationException", message, fields={"Reason": reason})


def _malformed(detail: str) -> AwsError:
    return AwsError("MalformedPolicyDocumentException",
                    f"The provided policy document does not meet the requirements of the specified policy type. {detail}")


# --- the SCP language


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise _malformed(f"The element {key} appears more than once in one object.")
    return dict(pairs)


def _check_statement(statement) -> None:
    if isinstance(statement, dict) and ("Principal" in statement or "NotPrincipal" in statement):
        raise _malformed("A service control policy can't name a Principal or NotPrincipal: "
                         "it applies to the principals of the accounts it is attached to.")
    try:
        policy.identity_statement(statement)
    except policy.MalformedPolicy as exc:
        raise _malformed(str(exc)) from None


def parse_scp(content: str) -> dict:
    """Validate an SCP document as Organizations does and return it parsed."""
    if len(content) > SCP_MAX_CHARS:
        raise _constraint("POLICY_CONTENT_LIMIT_EXCEEDED",
                          f"You have exceeded the maximum policy size ({SCP_MAX_CHARS} characters).")
    try:
        document = json.loads(content, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        raise _malformed("The policy is not valid JSON; it must be one JSON object.") from None
    if not isinstance(document, dict):
        raise _malformed("The policy must be one JSON object.")
    unknown = sorted(set(document) - {"Version", "Statement"})
    if unknown:
        raise _malformed(f"Unsupported element in the policy: {unknown[0]}")
    if document.get("Version") != SCP_VERSION:
        raise _malformed(f"The policy needs a Version of \"{SCP_VERSION}\".")
    statements = document.get("Statement")
    if statements is None or statements == []:
        raise _malformed("The policy needs a Statement.")
    for statement in statements if isinstance(statements, list) else [statements]:
        _check_statement(statement)
    return document


@dataclass(frozen=True)
class PolicyKind:
    """What differs between the implemented policy types."""
    parse: object  # content -> parsed document, or an AwsError as Organizations answers
    max_per_target: int
    min_per_target: int  # SCPs: a target always keeps one; attach another before detaching the last
    label: str


KINDS = {
    SCP: PolicyKind(parse_scp, 5, 1, "service control policies"),
    DECLARATIVE: PolicyKind(declarative_policies.parse, 10, 0, "declarative policies for EC2"),
}


# --- shapes


def _summary(org, policy_id, name, description, policy_type=SCP) -> dict:
    if policy_id == FULL_AWS_ACCESS_ID:
        return {"Id": policy_id, "Arn": FULL_AWS_ACCESS_ARN, "Name": FULL_AWS_ACCESS_NAME,
                "Description": FULL_AWS_ACCESS_DESCRIPTION, "Type": SCP, "AwsManaged": True}
    arn = f"arn:aws:organizations::{org['management_account_id']}:policy/{org['org_id']}/{policy_type.lower()}/{policy_id}"
    return {"Id": policy_id, "Arn": arn, "Name": name, "Description": description, "Type": policy_type,
            "AwsManaged": False}


def _policy_shape(org, row) -> dict:
    summary = _summary(org, row["policy_id"], row["name"], row["description"], row["policy_type"])
    content = FULL_AWS_ACCESS_CONTENT if row["policy_id"] == FULL_AWS_ACCESS_ID else row["content"]
    return {"PolicySummary": summary, "Content": content}


_FULL_AWS_ACCESS_ROW = {"policy_id": FULL_AWS_ACCESS_ID, "policy_type": SCP, "name": FULL_AWS_ACCESS_NAME,
                        "description": FULL_AWS_ACCESS_DESCRIPTION, "content": FULL_AWS_ACCESS_CONTENT}


# --- lookups


def _policy(ctx, org, policy_id, not_found="PolicyNotFoundException"):
    """The policy row (FullAWSAccess as a built-in one) of the caller's organization."""
    if not POLICY_ID_RE.match(policy_id or ""):
        raise _invalid("INVALID_SYNTAX_POLICY_ID", f"Invalid policy id: {policy_id}")
    if policy_id == FULL_AWS_ACCESS_ID and org["feature_set"] == "ALL":
        return _FULL_AWS_ACCESS_ROW
    row = store.policy(ctx.conn, policy_id)
    if row is None or row["org_id"] != org["org_id"]:
        raise AwsError(not_found, "We can't find a policy with the PolicyId that you specified.")
    return row


def _target(ctx, org, target_id) -> dict:
    """The root, an OU or a member account of the caller's organization, as a PolicyTargetSummary."""
    if not TARGET_RE.match(target_id or ""):
        raise _invalid("INVALID_PATTERN_TARGET_ID", f"Invalid target id: {target_id}")
    if target_id.startswith("r-"):
        if target_id == org["root_id"]:
            node = org_store.node(ctx.conn, target_id)
            return {"TargetId": target_id, "Arn": root_arn(org), "Name": node["name"], "Type": "ROOT"}
    elif OU_RE.match(target_id):
        node = org_store.node(ctx.conn, target_id)
        if node is not None and node["org_id"] == org["org_id"] and node["kind"] == "ou":
            return {"TargetId": target_id, "Arn": ou_arn(org["management_account_id"], org["org_id"], target_id),
                    "Name": node["name"], "Type": "ORGANIZATIONAL_UNIT"}
    else:
        member = org_store.membership(ctx.conn, target_id)
        if member is not None and member["org_id"] == org["org_id"]:
            return {"TargetId": target_id, "Arn": account_arn(org, target_id), "Name": member["name"],
                    "Type": "ACCOUNT"}
    raise AwsError("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")


def _available(org, policy_type) -> PolicyKind:
    if policy_type not in KINDS:
        raise AwsError("PolicyTypeNotAvailableForOrganizationException",
                       f"The policy type {policy_type} is not available: only service control policies "
                       f"({SCP}) and declarative policies for EC2 ({DECLARATIVE}) are implemented.")
    if org["feature_set"] != "ALL":
        raise AwsError("PolicyTypeNotAvailableForOrganizationException",
                       "Policies are available only in an organization with all features enabled.")
    return KINDS[policy_type]


POLICIES = Listing("policies", key="policy_id", max_results=page_limit, read_token=after_token)
POLICIES_FOR_TARGET = Listing("policies-for-target", key="policy_id", max_results=page_limit, read_token=after_token)
TARGETS_FOR_POLICY = Listing("targets-for-policy", key="target_id", max_results=page_limit, read_token=after_token)


def _page_with_builtin(query, rows, builtin):
    """Keyset page of policy rows (read with limit + 1) with the built-in row merged in id order."""
    rows = list(rows)
    if builtin is not None and (query.after is None or builtin["policy_id"] > query.after):
        rows = sorted(rows + [builtin], key=lambda r: r["policy_id"])
    return query.page(rows)


# --- policy types


def _root(ctx, org, root_id):
    if not ROOT_RE.match(root_id or ""):
        raise _invalid("INVALID_PATTERN", f"Invalid root id: {root_id}")
    if root_id != org["root_id"]:
        raise AwsError("RootNotFoundException", "We can't find a root with the RootId that you specified.")


def enable_policy_type(ctx, root_id, policy_type) -> dict:
    org = managed_org(ctx)
    _root(ctx, org, root_id)
    _available(org, policy_type)
    store.lock_org(ctx.conn, org["org_id"])
    if store.type_enabled(ctx.conn, org["org_id"], policy_type):
        raise AwsError("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
    store.enable_type(ctx.conn, org["org_id"], policy_type, ctx.now)
    if policy_type == SCP:
        store.attach_everywhere(ctx.conn, org["org_id"], FULL_AWS_ACCESS_ID, policy_type, ctx.now)
    return root_shape(ctx, org)


def disable_policy_type(ctx, root_id, policy_type) -> dict:
    """Detaches every policy of the type from every target; the policies stay."""
    org = managed_org(ctx)
    _root(ctx, org, root_id)
    store.lock_org(ctx.conn, org["org_id"])
    if not store.type_enabled(ctx.conn, org["org_id"], policy_type):
        raise AwsError("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
    store.disable_type(ctx.conn, org["org_id"], policy_type)
    if policy_type == DECLARATIVE:
        declarative_effects.settle_target(ctx, org, org["root_id"])
    return root_shape(ctx, org)


# --- policies


def _new_policy_id() -> str:
    return "p-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def _check_name_free(ctx, org, name, policy_type, own_id=None) -> None:
    holder = store.policy_named(ctx.conn, org["org_id"], policy_type, name)
    if (policy_type == SCP and name == FULL_AWS_ACCESS_NAME) or (holder is not None and holder.policy_id != own_id):
        raise AwsError("DuplicatePolicyException", "A policy with the same name already exists.")


def create_policy(ctx, content, description, name, policy_type, tags) -> dict:
    org = managed_org(ctx)
    _available(org, policy_type).parse(content)
    requested = _check_tags(tags)
    store.lock_org(ctx.conn, org["org_id"])
    _check_name_free(ctx, org, name, policy_type)
    policy_id = _new_policy_id()
    store.insert_policy(ctx.conn, policy_id=policy_id, org_id=org["org_id"], policy_type=policy_type, name=name,
                        description=description or "", content=content, created_at=ctx.now)
    _put_tags(ctx, org, policy_id, requested)
    return _policy_shape(org, store.policy(ctx.conn, policy_id))


def describe_policy(ctx, policy_id) -> dict:
    org = managed_org(ctx)
    return _policy_shape(org, _policy(ctx, org, policy_id))


def _immutable(policy_id) -> None:
    if policy_id == FULL_AWS_ACCESS_ID:
        raise _invalid("IMMUTABLE_POLICY", "You specified a policy that is managed by AWS and can't be modified.")


def update_policy(ctx, policy_id, name, description, content) -> dict:
    org = managed_org(ctx)
    row = _policy(ctx, org, policy_id)
    _immutable(policy_id)
    changes = {}
    if content is not None:
        KINDS[row["policy_type"]].parse(content)
        changes["content"] = content
        changes["updated_at"] = ctx.now
    if description is not None:
        changes["description"] = description
    store.lock_org(ctx.conn, org["org_id"])
    if name is not None and name != row["name"]:
        _check_name_free(ctx, org, name, row["policy_type"], own_id=policy_id)
        changes["name"] = name
    if changes:
        store.update_policy(ctx.conn, policy_id, **changes)
    if (row["policy_type"] == DECLARATIVE and content is not None
            and declarative_effects.mentions_snapshots(row["content"], content)):
        for target in store.targets_of(ctx.conn, org["org_id"], policy_id):
            declarative_effects.settle_target(ctx, org, target["target_id"])
    return _policy_shape(org, store.policy(ctx.conn, policy_id))


def delete_policy(ctx, policy_id) -> None:
    org = managed_org(ctx)
    _policy(ctx, org, policy_id)
    _immutable(policy_id)
    store.lock_org(ctx.conn, org["org_id"])
    if store.is_attached_anywhere(ctx.conn, org["org_id"], policy_id):
        raise AwsError("PolicyInUseException", "The policy is attached to one or more entities. You must detach it "
                       "from all roots, OUs, and accounts before performing this operation.")
    store.delete_policy(ctx.conn, policy_id)


def list_policies(ctx, policy_type, max_results, token):
    org = managed_org(ctx)
    query = POLICIES.request(ctx, max_results=max_results, next_token=token, criteria=(policy_type,))
    if policy_type not in KINDS:
        return [], None
    rows = store.policies(ctx.conn, org["org_id"], policy_type, query.after, query.fetch)
    builtin = _FULL_AWS_ACCESS_ROW if org["feature_set"] == "ALL" and policy_type == SCP else None
    rows, next_token = _page_with_builtin(query, rows, builtin)
    return [_summary(org, r["policy_id"], r["name"], r["description"], policy_type) for r in rows], next_token


def list_policies_for_target(ctx, target_id, policy_type, max_results, token):
    org = managed_org(ctx)
    _target(ctx, org, target_id)
    query = POLICIES_FOR_TARGET.request(ctx, max_results=max_results, next_token=token,
                                        criteria=(target_id, policy_type))
    rows, next_token = query.page(store.attached_to(ctx.conn, org["org_id"], target_id, policy_type, query.after,
                                                    query.fetch))
    return [_summary(org, r["policy_id"], r["name"], r["description"], policy_type) for r in rows], next_token


def list_targets_for_policy(ctx, policy_id, max_results, token):
    org = managed_org(ctx)
    _policy(ctx, org, policy_id)
    query = TARGETS_FOR_POLICY.request(ctx, max_results=max_results, next_token=token, criteria=(policy_id,))
    rows, next_token = query.page(store.targets_of(ctx.conn, org["org_id"], policy_id, query.after, query.fetch))
    mgmt, org_id = org["management_account_id"], org["org_id"]
    targets = []
    for row in rows:
        target_id = row["target_id"]
        if target_id.startswith("r-"):
            kind, arn, name = "ROOT", root_arn(org), row["node_name"]
        elif target_id.startswith("ou-"):
            kind, arn, name = "ORGANIZATIONAL_UNIT", ou_arn(mgmt, org_id, target_id), row["node_name"]
        else:
            kind, arn, name = "ACCOUNT", account_arn(org, target_id), row["account_name"]
        targets.append({"TargetId": target_id, "Arn": arn, "Name": name, "Type": kind})
    return targets, next_token


# --- attachments


def attach_policy(ctx, policy_id, target_id) -> None:
    org = managed_org(ctx)
    row = _policy(ctx, org, policy_id)
    _target(ctx, org, target_id)
    policy_type = row["policy_type"]
    store.lock_org(ctx.conn, org["org_id"])
    if not store.type_enabled(ctx.conn, org["org_id"], policy_type):
        raise AwsError("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
    if store.attachment(ctx.conn, policy_id, target_id) is not None:
        raise AwsError("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
    kind = KINDS[policy_type]
    if store.count_attached(ctx.conn, target_id, policy_type) >= kind.max_per_target:
        raise _constraint("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                          f"You can attach at most {kind.max_per_target} {kind.label} to a root, OU or account.")
    store.attach(ctx.conn, org["org_id"], policy_id, policy_type, [target_id], ctx.now)
    if policy_type == DECLARATIVE and declarative_effects.mentions_snapshots(row["content"]):
        declarative_effects.settle_target(ctx, org, target_id)


def detach_policy(ctx, policy_id, target_id) -> None:
    """Every root, OU and account keeps at least one SCP: attach the replacement before detaching the last.
    Declarative policies can all be detached."""
    org = managed_org(ctx)
    row = _policy(ctx, org, policy_id)
    _target(ctx, org, target_id)
    store.lock_org(ctx.conn, org["org_id"])
    attached = store.attachment(ctx.conn, policy_id, target_id)
    if attached is None or attached["org_id"] != org["org_id"]:
        raise AwsError("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
    if store.count_attached(ctx.conn, target_id, row["policy_type"]) <= KINDS[row["policy_type"]].min_per_target:
        raise _constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                          "You can't detach the last service control policy from a root, OU or account; "
                          "attach another one first.")
    store.detach(ctx.conn, policy_id, target_id)
    if row["policy_type"] == DECLARATIVE and declarative_effects.mentions_snapshots(row["content"]):
        declarative_effects.settle_target(ctx, org, target_id)


# --- tags on policies, the root, OUs and accounts


def _taggable(ctx, org, resource_id) -> None:
    if (resource_id or "").startswith("p-"):
        if resource_id == FULL_AWS_ACCESS_ID:
            raise _invalid("IMMUTABLE_POLICY", "You can't tag a policy that is managed by AWS.")
        _policy(ctx, org, resource_id, not_found="TargetNotFoundException")
    elif TARGET_RE.match(resource_id or ""):
        _target(ctx, org, resource_id)
    else:
        raise _invalid("INVALID_PATTERN", f"Invalid resource id: {resource_id}")


def _tag_text_ok(text: str) -> bool:
    return all(c.isalnum() or c.isspace() or c in _TAG_PUNCTUATION for c in text)


def _check_tags(tags) -> dict[str, str]:
    requested: dict[str, str] = {}
    for tag in tags or ():
        key, value = tag["Key"], tag["Value"]
        if key.lower().startswith("aws:"):
            raise _invalid("INVALID_SYSTEM_TAGS_PARAMETER", f"Tag keys can't begin with aws: ({key}); the prefix is reserved.")
        if not _tag_text_ok(key) or not _tag_text_ok(value):
            raise _invalid("INVALID_PATTERN", f"Invalid tag: {key}")
        if key in requested:
            raise _invalid("DUPLICATE_TAG_KEY", f"Duplicate tag key: {key}")
        requested[key] = value
    return requested


def _put_tags(ctx, org, resource_id, requested: dict[str, str]) -> None:
    if not requested:
        return
    existing = {row["key"] for row in store.tags_of(ctx.conn, resource_id)}
    if len(existing | set(requested)) > MAX_TAGS:
        raise _constraint("MAX_TAG_LIMIT_EXCEEDED", f"A resource can have at most {MAX_TAGS} tags.")
    store.put_tags(ctx.conn, org["org_id"], resource_id, requested)


def tag_resource(ctx, resource_id, tags) -> None:
    org = managed_org(ctx)
    _taggable(ctx, org, resource_id)
    _put_tags(ctx, org, resource_id, _check_tags(tags))


def untag_resource(ctx, resource_id, keys) -> None:
    org = managed_org(ctx)
    _taggable(ctx, org, resource_id)
    store.delete_tags(ctx.conn, resource_id, keys)


def list_tags(ctx, resource_id, token):
    org = managed_org(ctx)
    _taggable(ctx, org, resource_id)
    fp = pagination.fingerprint("tags", resource_id)
    rows = store.tags_of(ctx.conn, resource_id, after_token(token, fp))
    return [{"Key": r["key"], "Value": r["value"]} for r in rows], None


# --- effective policies


def describe_effective_policy(ctx, policy_type, target_id) -> dict:
    """The effective policy of an account: any account asks for itself, the management account
    for any account of its organization. Management policy types only (not SCPs)."""
    member = org_store.membership(ctx.conn, ctx.account_id)
    if member is None:
        raise AwsError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
    org = org_store.org_by_id(ctx.conn, member["org_id"])
    target_id = target_id or ctx.account_id
    if target_id != ctx.account_id:
        if org["management_account_id"] != ctx.account_id:
            raise AwsError("AccessDeniedException", "You don't have permissions to access this resource.")
        if not TARGET_RE.match(target_id):
            raise _invalid("INVALID_PATTERN_TARGET_ID", f"Invalid target id: {target_id}")
        if not target_id.isdigit():
            raise _invalid("TARGET_NOT_SUPPORTED", "The effective policy is available for accounts only, "
                                                   "not for a root or an organizational unit.")
        _target(ctx, org, target_id)
    found = declarative_policies.effective_for(ctx.conn, target_id) if policy_type == DECLARATIVE else None
    if found is None:
        raise AwsError("EffectivePolicyNotFoundException",
                       "We can't find an effective policy of the specified type for the specified target.")
    return {"PolicyContent": json.dumps(found.document, separators=(",", ":")),
            "LastUpdatedTimestamp": found.last_updated, "TargetId": target_id, "PolicyType": policy_type}
