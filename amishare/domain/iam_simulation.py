"""IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy), answered by the
evaluation that authorizes every call (`authz.simulate`), with the statements that decided."""

import json

from amishare.domain import authz, iam_policies, pagination, policy
from amishare.domain import iam_common as common
from amishare.domain.principal import Principal
from amishare.errors import AwsError, constraint_violation, validation_error
from amishare.store import iam as store

MAX_SIMULATIONS = 1000  # actions × resources in one call


def _parsed(texts, kind: str) -> list[authz.Source]:
    out = []
    for i, text in enumerate(texts or []):
        out.append(authz.Source(f"PolicyInputList.{i + 1}" if kind == "IAM Policy" else f"{kind}.{i + 1}", "IAM Policy",
                                policy.validate_document(text, resource_policy=False)))
    return out


def _managed(conn, account_id: str, arn: str) -> authz.Source | None:
    documents = iam_policies.default_documents(conn, account_id, [arn])
    if not documents:
        return None
    kind = "aws-managed" if arn.startswith("arn:aws:iam::aws:policy/") else "user-managed"
    return authz.Source(arn, kind, documents[0])


def _attached(conn, kind: str, entity_ids: list[str], account_id: str) -> list[authz.Source]:
    out = [authz.Source(row["policy_name"], kind, json.loads(row["document"]))
           for row in store.inline_of(conn, kind, entity_ids)]
    for row in store.attached(conn, kind, entity_ids):
        source = _managed(conn, account_id, row["policy_arn"])
        if source is not None:
            out.append(source)
    return out


def _entity(conn, account_id: str, arn: str):
    for kind in ("user", "role", "group"):
        marker = f":{kind}/"
        if arn.startswith(f"arn:aws:iam::{account_id}{marker}"):
            name = arn.rsplit("/", 1)[1]
            row = store.entity_by_name(conn, kind, account_id, name)
            if row is not None and common.row_arn(kind, row) == arn:
                return kind, row
    raise AwsError("NoSuchEntity", f"The entity {arn} does not exist or is not in your account.", 404)


def _context(entries) -> dict:
    context = {}
    for entry in entries or []:
        context[entry["ContextKeyName"].lower()] = [str(v) for v in entry.get("ContextKeyValues") or []]
    return context


def _evaluate(ctx, principal: Principal, identity, boundaries, params) -> dict:
    actions = params["ActionNames"]
    resources = params.get("ResourceArns") or ["*"]
    if len(actions) * len(resources) > MAX_SIMULATIONS:
        raise AwsError("InvalidInput", f"At most {MAX_SIMULATIONS} action and resource pairs can be simulated at once.")
    resource_policy = None
    if params.get("ResourcePolicy"):
        resource_policy = authz.Source("ResourcePolicy", "resource",
                                       policy.validate_document(params["ResourcePolicy"], resource_policy=True))
    context = _context(params.get("ContextEntries"))
    owner = None
    if params.get("ResourceOwner"):
        parts = params["ResourceOwner"].split(":")
        if len(parts) < 5 or not parts[4].isascii() or not parts[4].isdigit():
            raise AwsError("InvalidInput", "ResourceOwner must be an account ARN such as arn:aws:iam::123456789012:root.")
        owner = parts[4]
    pairs = [(action, resource) for action in actions for resource in resources]
    # MaxItems results a page; the Marker is the position of the next pair (only that page is evaluated).
    asked = {k: v for k, v in params.items() if k not in ("Marker", "MaxItems")}
    criteria = ("simulation", ctx.account_id, json.dumps(asked, sort_keys=True, default=str))
    marker = params.get("Marker")
    resume = common.start_after(marker, *criteria)
    start = 0
    if resume is not None:
        if not resume.isdigit() or not 0 < int(resume) < len(pairs):
            raise validation_error([constraint_violation(marker, "marker", "Member must be a marker this call returned")])
        start = int(resume)
    end = start + common.items(params.get("MaxItems"))
    results = [authz.simulate(principal, identity, boundaries, action, resource, context, resource_policy, owner)
               for action, resource in pairs[start:end]]
    out = {"EvaluationResults": results, "IsTruncated": end < len(pairs)}
    if out["IsTruncated"]:
        out["Marker"] = pagination.encode(str(end), pagination.fingerprint(*criteria))
    return out


def simulate_principal(ctx, params) -> dict:
    """The policies attached to a user (with its groups'), role or group, plus those given."""
    kind, row = _entity(ctx.conn, ctx.account_id, params["PolicySourceArn"])
    entity_id = row[f"{kind}_id"]
    identity = _attached(ctx.conn, kind, [entity_id], ctx.account_id)
    if kind == "user":
        groups = [g["group_id"] for g in store.groups_of(ctx.conn, entity_id)]
        identity += _attached(ctx.conn, "group", groups, ctx.account_id)
    identity += _parsed(params.get("PolicyInputList"), "IAM Policy")
    boundaries = _parsed(params.get("PermissionsBoundaryPolicyInputList"), "PermissionsBoundaryPolicyInputList")
    if not boundaries and kind in ("user", "role") and row["boundary_arn"]:
        source = _managed(ctx.conn, ctx.account_id, row["boundary_arn"])
        boundaries = [source] if source else []
    principal = Principal(ctx.account_id, "user" if kind == "user" else "assumed-role", common.row_arn(kind, row))
    return _evaluate(ctx, principal, identity, boundaries, params)


def simulate_custom(ctx, params) -> dict:
    """Only the policies given, for a principal of the caller's account."""
    identity = _parsed(params["PolicyInputList"], "IAM Policy")
    boundaries = _parsed(params.get("PermissionsBoundaryPolicyInputList"), "PermissionsBoundaryPolicyInputList")
    caller = params.get("CallerArn") or f"arn:aws:iam::{ctx.account_id}:user/simulated"
    return _evaluate(ctx, Principal(ctx.account_id, "user", caller), identity, boundaries, params)
