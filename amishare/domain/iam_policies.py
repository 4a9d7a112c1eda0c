"""IAM policies: customer managed policies and their versions, the AWS managed
policies (built in, the same in every account), attachments to users, groups and
roles, inline policies, and permissions boundaries.

Documents are validated when they are written (`policy.validate_document`) and
kept as submitted; IAM's quotas count their characters other than whitespace.
"""

import json
import re
from dataclasses import dataclass

from amishare.domain import aws_policies, pagination, policy
from amishare.domain import iam_common as common
from amishare.domain.iam_common import find
from amishare.errors import constraint_violation, validation_error
from amishare.store import iam as store

MAX_ATTACHED = 10
MAX_VERSIONS = 5
MANAGED_POLICY_QUOTA = 6144
INLINE_QUOTA = {"user": 2048, "group": 5120, "role": 10240}
_KIND_TITLE = {"user": "User", "group": "Group", "role": "Role"}
_POLICY_ARN = re.compile(r"arn:aws:iam::(\d{12}|aws):policy(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)", re.ASCII)
_VERSION_ID = re.compile(r"v[1-9][0-9]*")


@dataclass(frozen=True)
class Managed:
    """A managed policy as an account sees it: one of its own, or an AWS managed one."""

    arn: str
    name: str
    policy_id: str
    path: str
    description: str | None
    default_version: str
    created_at: float
    updated_at: float
    row: dict | None = None  # the stored row of a customer managed policy
    builtin: aws_policies.AwsPolicy | None = None
    tags: str = "[]"

    @property
    def name_key(self) -> str:
        return self.name.lower()


def _customer(row) -> Managed:
    return Managed(common.arn(row["account_id"], "policy", row["path"], row["name"]), row["name"], row["policy_id"],
                   row["path"], row["description"], row["default_version"], row["created_at"], row["updated_at"],
                   row=dict(row), tags=row["tags"])


def _builtin(p: aws_policies.AwsPolicy) -> Managed:
    return Managed(p.arn, p.name, p.policy_id, p.path, p.description, p.version_id, p.created_at, p.updated_at,
                   builtin=p)


def lookup(conn, account_id: str, arn: str, lock: bool = False) -> Managed | None:
    """The managed policy `arn` names as `account_id` sees it, or None."""
    builtin = aws_policies.get(arn)
    if builtin is not None:
        return _builtin(builtin)
    match = _POLICY_ARN.fullmatch(arn or "")
    if match is None or match.group(1) != account_id:
        return None
    row = store.entity_by_name(conn, "policy", account_id, match.group(3), lock)
    if row is None or row["path"] != match.group(2) or row["name"] != match.group(3):
        return None
    return _customer(row)


def resolve(ctx, arn: str, attachable: bool = False, lock: bool = False) -> Managed:
    if _POLICY_ARN.fullmatch(arn or "") is None:
        raise common.invalid_input(f"ARN {arn} is not valid.")
    managed = lookup(ctx.conn, ctx.account_id, arn, lock)
    if managed is None:
        raise common.no_such_entity(f"Policy {arn} does not exist or is not attachable." if attachable
                                    else f"Policy {arn} was not found.")
    return managed


def _writable(ctx, arn: str, operation: str) -> Managed:
    managed = resolve(ctx, arn, lock=True)
    if managed.builtin is not None:
        raise common.access_denied(ctx.principal.arn, f"iam:{operation}", f"policy {arn}")
    return managed


def document(conn, managed: Managed, version_id: str | None = None) -> str | None:
    """The text of a version (the default one unless named) of a managed policy."""
    version_id = version_id or managed.default_version
    if managed.builtin is not None:
        return managed.builtin.document if version_id == managed.default_version else None
    row = store.version(conn, managed.policy_id, version_id)
    return row["document"] if row else None


def default_documents(conn, account_id: str, arns) -> list[dict]:
    """The parsed default versions of the managed policies `arns` (ones gone are skipped)."""
    out, customer = [], {}
    for arn in arns:
        builtin = aws_policies.get(arn)
        if builtin is not None:
            out.append(json.loads(builtin.document))
            continue
        managed = lookup(conn, account_id, arn)
        if managed is not None:
            customer[managed.policy_id] = managed
    out.extend(json.loads(text) for text in store.default_documents(conn, list(customer)).values())
    return out


def _check_document(text: str) -> str:
    policy.validate_document(text, resource_policy=False)
    if common.compact_length(text) > MANAGED_POLICY_QUOTA:
        raise common.limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}")
    return text


def policy_view(managed: Managed, attachments: int = 0, boundaries: int = 0, full: bool = False) -> dict:
    view = {"PolicyName": managed.name, "PolicyId": managed.policy_id, "Arn": managed.arn, "Path": managed.path,
            "DefaultVersionId": managed.default_version, "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": boundaries, "IsAttachable": True,
            "CreateDate": managed.created_at, "UpdateDate": managed.updated_at}
    if full:
        if managed.description:
            view["Description"] = managed.description
        if json.loads(managed.tags):
            view["Tags"] = common.tag_list(managed.tags)
    return view


def _views(ctx, policies: list[Managed], full: bool = False) -> list[dict]:
    arns = [m.arn for m in policies]
    attachments = store.attachment_counts(ctx.conn, ctx.account_id, arns)
    boundaries = store.boundary_counts(ctx.conn, ctx.account_id, arns)
    return [policy_view(m, attachments.get(m.arn, 0), boundaries.get(m.arn, 0), full) for m in policies]


# --- customer managed policies and their versions


def create_policy(ctx, name: str, text: str, path=None, description=None, tags=None) -> dict:
    common.check_name(name, "policyName", 128)
    path = common.check_path(path)
    _check_document(text)
    if store.entity_by_name(ctx.conn, "policy", ctx.account_id, name) is not None:
        raise common.entity_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
    tags_text = json.dumps(common.merge_tags([], tags or [], "Policy"))
    row = {"policy_id": common.new_unique_id(common.POLICY_PREFIX), "account_id": ctx.account_id, "name": name,
           "name_key": name.lower(), "path": path, "description": description, "default_version": "v1",
           "next_version": 2, "tags": tags_text, "created_at": ctx.now, "updated_at": ctx.now}
    store.insert_entity(ctx.conn, "policy", **row)
    store.insert_version(ctx.conn, policy_id=row["policy_id"], version_id="v1", document=text, created_at=ctx.now)
    return policy_view(_customer(row), full=True)


def get_policy(ctx, arn: str) -> dict:
    return _views(ctx, [resolve(ctx, arn)], full=True)[0]


def list_policies(ctx, scope: str | None, only_attached: bool, path_prefix: str | None, usage: str | None,
                  marker, max_items) -> dict:
    scope = scope or "All"
    prefix = path_prefix or "/"
    criteria = ("policies", ctx.account_id, scope, only_attached, prefix, usage)
    after = common.start_after(marker, *criteria)
    size = common.items(max_items)
    if only_attached:
        arns = set()
        if usage in (None, "PermissionsPolicy"):
            arns |= set(store.attached_arns(ctx.conn, ctx.account_id))
        if usage in (None, "PermissionsBoundary"):
            arns |= set(store.boundary_arns(ctx.conn, ctx.account_id))
        candidates = [m for m in (lookup(ctx.conn, ctx.account_id, arn) for arn in arns) if m is not None]
    else:
        candidates = [_builtin(p) for p in aws_policies.POLICIES]
        if scope != "AWS":
            after_name = after.split("\x00")[0] if after else None
            rows = store.list_entities(ctx.conn, "policy", ctx.account_id, prefix, after_name, size + 2, inclusive=True)
            candidates += [_customer(row) for row in rows]
    candidates = [m for m in candidates if _in_scope(m, scope) and m.path.startswith(prefix)]
    keyed = sorted((f"{m.name_key}\x00{0 if m.builtin else 1}", m) for m in candidates)
    keyed = [(key, m) for key, m in keyed if after is None or key > after]
    page, more = common.page([{"key": key, "m": m} for key, m in keyed], max_items, *criteria, key="key")
    return {"Policies": _views(ctx, [item["m"] for item in page]), **more}


def _in_scope(managed: Managed, scope: str) -> bool:
    return scope == "All" or (scope == "AWS") == (managed.builtin is not None)


def delete_policy(ctx, arn: str) -> None:
    managed = _writable(ctx, arn, "DeletePolicy")
    if store.attachments_of_policy(ctx.conn, ctx.account_id, managed.arn, limit=1) or \
            store.boundary_counts(ctx.conn, ctx.account_id, [managed.arn]):
        raise common.delete_conflict("Cannot delete a policy attached to entities.")
    if len(store.versions(ctx.conn, managed.policy_id)) > 1:
        raise common.delete_conflict("This policy has more than one version. Before you delete a policy, you must "
                                     "delete the policy's versions. The default version is deleted with the policy.")
    store.delete_versions(ctx.conn, managed.policy_id)
    store.delete_entity(ctx.conn, "policy", managed.policy_id)


def _version_view(managed: Managed, version_id: str, created_at: float, text: str | None = None) -> dict:
    view = {"VersionId": version_id, "IsDefaultVersion": version_id == managed.default_version,
            "CreateDate": created_at}
    if text is not None:
        view["Document"] = text
    return view


def _check_version_id(version_id: str) -> str:
    if not _VERSION_ID.fullmatch(version_id):
        raise common.invalid_input(f"Invalid version id: {version_id}")
    return version_id


def get_policy_version(ctx, arn: str, version_id: str) -> dict:
    managed = resolve(ctx, arn)
    text = document(ctx.conn, managed, _check_version_id(version_id))
    if text is None:
        raise common.no_such_entity(f"Policy {managed.arn} version {version_id} does not exist or is not attachable.")
    created = managed.updated_at if managed.builtin else store.version(ctx.conn, managed.policy_id, version_id)[
        "created_at"]
    return _version_view(managed, version_id, created, text)


def list_policy_versions(ctx, arn: str, marker, max_items) -> dict:
    """The policy's versions, newest first (at most MAX_VERSIONS of them), MaxItems at a time."""
    managed = resolve(ctx, arn)
    if managed.builtin is not None:
        versions = [_version_view(managed, managed.default_version, managed.updated_at)]
    else:
        rows = sorted(store.versions(ctx.conn, managed.policy_id), key=lambda r: -int(r["version_id"][1:]))
        versions = [_version_view(managed, r["version_id"], r["created_at"]) for r in rows]
    criteria = ("policy-versions", ctx.account_id, managed.arn)
    start = 0
    resume = common.start_after(marker, *criteria)
    if resume is not None:
        start = next((i + 1 for i, v in enumerate(versions) if v["VersionId"] == resume), None)
        if start is None:  # the version it resumed after was deleted since: resume after its number
            newer = int(resume[1:]) if resume[1:].isdigit() else 0
            start = sum(1 for v in versions if int(v["VersionId"][1:]) > newer)
    size = common.items(max_items)
    page = versions[start:start + size]
    out = {"Versions": page, "IsTruncated": start + size < len(versions)}
    if out["IsTruncated"]:
        out["Marker"] = pagination.encode(page[-1]["VersionId"], pagination.fingerprint(*criteria))
    return out


def create_policy_version(ctx, arn: str, text: str, set_as_default: bool) -> dict:
    managed = _writable(ctx, arn, "CreatePolicyVersion")
    _check_document(text)
    if len(store.versions(ctx.conn, managed.policy_id)) >= MAX_VERSIONS:
        raise common.limit_exceeded(f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new "
                                    "version, you must delete an existing version.")
    number = managed.row["next_version"]
    version_id = f"v{number}"
    store.insert_version(ctx.conn, policy_id=managed.policy_id, version_id=version_id, document=text,
                         created_at=ctx.now)
    values = {"next_version": number + 1, "updated_at": ctx.now}
    if set_as_default:
        values["default_version"] = version_id
    store.update_entity(ctx.conn, "policy", managed.policy_id, **values)
    default = version_id if set_as_default else managed.default_version
    return {"VersionId": version_id, "IsDefaultVersion": version_id == default, "CreateDate": ctx.now}


def _own_version(ctx, arn: str, version_id: str, operation: str) -> Managed:
    managed = _writable(ctx, arn, operation)
    if store.version(ctx.conn, managed.policy_id, _check_version_id(version_id)) is None:
        raise common.no_such_entity(f"Policy {managed.arn} version {version_id} does not exist or is not attachable.")
    return managed


def delete_policy_version(ctx, arn: str, version_id: str) -> None:
    managed = _own_version(ctx, arn, version_id, "DeletePolicyVersion")
    if version_id == managed.default_version:
        raise common.delete_conflict("Cannot delete the default version of a policy.")
    store.delete_version(ctx.conn, managed.policy_id, version_id)


def set_default_policy_version(ctx, arn: str, version_id: str) -> None:
    managed = _own_version(ctx, arn, version_id, "SetDefaultPolicyVersion")
    store.update_entity(ctx.conn, "policy", managed.policy_id, default_version=version_id, updated_at=ctx.now)


def tag_policy(ctx, arn: str, tags: list) -> None:
    managed = _writable(ctx, arn, "TagPolicy")
    merged = common.merge_tags(json.loads(managed.tags), tags, "Policy")
    store.update_entity(ctx.conn, "policy", managed.policy_id, tags=json.dumps(merged))


def untag_policy(ctx, arn: str, keys: list[str]) -> None:
    managed = _writable(ctx, arn, "UntagPolicy")
    store.update_entity(ctx.conn, "policy", managed.policy_id,
                        tags=json.dumps(common.remove_tags(json.loads(managed.tags), keys)))


def list_policy_tags(ctx, arn: str, marker, max_items) -> dict:
    return common.page_tags(resolve(ctx, arn).tags, marker, max_items)


# --- attachments


def _entity_id(kind: str, row) -> str:
    return row[f"{kind}_id"]


def attach(ctx, kind: str, name: str, arn: str) -> None:
    entity = find(ctx, kind, name, lock=True)
    managed = resolve(ctx, arn, attachable=True, lock=True)  # not deleted while it is attached
    current = [row["policy_arn"] for row in store.attached(ctx.conn, kind, [_entity_id(kind, entity)])]
    if managed.arn in current:
        return
    if len(current) >= MAX_ATTACHED:
        raise common.limit_exceeded(f"Cannot exceed quota for PoliciesPer{_KIND_TITLE[kind]}: {MAX_ATTACHED}")
    store.attach(ctx.conn, ctx.account_id, kind, _entity_id(kind, entity), managed.arn)


def detach(ctx, kind: str, name: str, arn: str) -> None:
    entity = find(ctx, kind, name, lock=True)
    managed = lookup(ctx.conn, ctx.account_id, arn)
    if managed is None or not store.detach(ctx.conn, kind, _entity_id(kind, entity), managed.arn):
        raise common.no_such_entity(f"Policy {arn} was not found.")


def list_attached(ctx, kind: str, name: str, path_prefix: str | None, marker, max_items) -> dict:
    entity = find(ctx, kind, name)
    criteria = ("attached", kind, _entity_id(kind, entity), path_prefix)
    after = common.start_after(marker, *criteria)
    items = []
    for row in store.attached(ctx.conn, kind, [_entity_id(kind, entity)]):
        match = _POLICY_ARN.fullmatch(row["policy_arn"])
        if match and match.group(2).startswith(path_prefix or "/") and (after is None or row["policy_arn"] > after):
            items.append({"PolicyName": match.group(3), "PolicyArn": row["policy_arn"]})
    page, more = common.page(items, max_items, *criteria, key="PolicyArn")
    return {"AttachedPolicies": page, **more}


def attached_summary(conn, kind: str, entity_ids: list[str]) -> dict[str, list[dict]]:
    """entity id -> its attached policies as {PolicyName, PolicyArn}."""
    out: dict[str, list[dict]] = {}
    for row in store.attached(conn, kind, entity_ids):
        name = row["policy_arn"].rsplit("/", 1)[-1]
        out.setdefault(row["entity_id"], []).append({"PolicyName": name, "PolicyArn": row["policy_arn"]})
    return out


# --- inline policies


def put_inline(ctx, kind: str, name: str, policy_name: str, text: str) -> None:
    entity = find(ctx, kind, name, lock=True)
    common.check_name(policy_name, "policyName", 128)
    policy.validate_document(text, resource_policy=False)
    entity_id = _entity_id(kind, entity)
    others = [row["document"] for row in store.inline_of(ctx.conn, kind, [entity_id]) if row["policy_name"] != policy_name]
    quota = INLINE_QUOTA[kind]
    if sum(common.compact_length(doc) for doc in others + [text]) > quota:
        raise common.limit_exceeded(f"Maximum policy size of {quota} bytes exceeded for {kind} {entity['name']}")
    store.put_inline(ctx.conn, kind, entity_id, policy_name, text)


def _inline(ctx, kind: str, name: str, policy_name: str):
    entity = find(ctx, kind, name)
    row = store.inline(ctx.conn, kind, _entity_id(kind, entity), policy_name)
    if row is None:
        raise common.no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
    return entity, row


def get_inline(ctx, kind: str, name: str, policy_name: str) -> dict:
    entity, row = _inline(ctx, kind, name, policy_name)
    return {f"{_KIND_TITLE[kind]}Name": entity["name"], "PolicyName": row["policy_name"], "PolicyDocument": row["document"]}


def delete_inline(ctx, kind: str, name: str, policy_name: str) -> None:
    entity, row = _inline(ctx, kind, name, policy_name)
    store.delete_inline(ctx.conn, kind, _entity_id(kind, entity), row["policy_name"])


def list_inline(ctx, kind: str, name: str, marker, max_items) -> dict:
    entity = find(ctx, kind, name)
    criteria = ("inline", kind, _entity_id(kind, entity))
    after = common.start_after(marker, *criteria)
    names = [{"name": row["policy_name"]} for row in store.inline_of(ctx.conn, kind, [_entity_id(kind, entity)])
             if after is None or row["policy_name"] > after]
    page, more = common.page(names, max_items, *criteria, key="name")
    return {"PolicyNames": [item["name"] for item in page], **more}


# --- permissions boundaries of users and roles


def check_boundary(ctx, arn: str) -> str:
    return resolve(ctx, arn, attachable=True, lock=True).arn


def put_boundary(ctx, kind: str, name: str, arn: str) -> None:
    entity = find(ctx, kind, name, lock=True)
    store.update_entity(ctx.conn, kind, _entity_id(kind, entity), boundary_arn=check_boundary(ctx, arn))


def delete_boundary(ctx, kind: str, name: str) -> None:
    entity = find(ctx, kind, name, lock=True)
    store.update_entity(ctx.conn, kind, _entity_id(kind, entity), boundary_arn=None)


# --- who uses a policy; the account's whole configuration


def entities_for_policy(ctx, arn: str, entity_filter: str | None, path_prefix: str | None, marker, max_items) -> dict:
    """The users, groups and roles the policy is attached to, MaxItems attachments at a time (a page
    may hold fewer entities when PathPrefix leaves some out)."""
    managed = resolve(ctx, arn)
    kind = entity_filter.lower() if entity_filter in ("User", "Group", "Role") else None
    criteria = ("entities-for-policy", ctx.account_id, managed.arn, kind, path_prefix)
    resume = common.start_after(marker, *criteria)
    after = None
    if resume is not None:  # "kind/entity id" (Markers are not secret: checked like any input)
        after_kind, sep, after_id = resume.partition("/")
        if not sep or after_kind not in _KIND_TITLE:
            raise validation_error([constraint_violation(marker, "marker", "Member must be a marker this call returned")])
        after = (after_kind, after_id)
    size = common.items(max_items)
    rows = store.attachments_of_policy(ctx.conn, ctx.account_id, managed.arn, kind, after, size + 1)
    out = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [], "IsTruncated": len(rows) > size}
    rows = rows[:size]
    if out["IsTruncated"]:
        last = rows[-1]
        out["Marker"] = pagination.encode(f"{last['entity_kind']}/{last['entity_id']}", pagination.fingerprint(*criteria))
    for row in rows:
        entity_kind = row["entity_kind"]
        entity = store.entity_by_id(ctx.conn, entity_kind, row["entity_id"])
        if entity is None or not entity["path"].startswith(path_prefix or "/"):
            continue
        title = _KIND_TITLE[entity_kind]
        out[f"Policy{title}s"].append({f"{title}Name": entity["name"], f"{title}Id": row["entity_id"]})
    return out


def local_policies(ctx, after: str | None, limit: int) -> list[tuple[str, Managed]]:
    """(name key, policy) of the account's own managed policies in name order, after `after`."""
    return [(row["name_key"], _customer(row))
            for row in store.list_entities(ctx.conn, "policy", ctx.account_id, "/", after, limit)]


def attached_aws_policies(ctx, after: str | None, limit: int) -> list[tuple[str, Managed]]:
    """(name key, policy) of the AWS managed policies the account attaches (or uses as a boundary),
    in name order, after `after`."""
    attached = set(store.attached_arns(ctx.conn, ctx.account_id)) | set(store.boundary_arns(ctx.conn, ctx.account_id))
    found = sorted((p.name.lower(), _builtin(p)) for p in aws_policies.POLICIES if p.arn in attached)
    return [(key, managed) for key, managed in found if after is None or key > after][:limit]


def policy_details(ctx, policies: list[Managed]) -> list[dict]:
    """The managed policies, each with every version, as GetAccountAuthorizationDetails shows them."""
    out = []
    for managed, view in zip(policies, _views(ctx, policies)):
        if managed.builtin is not None:
            versions = [_version_view(managed, managed.default_version, managed.updated_at, managed.builtin.document)]
        else:
            versions = [_version_view(managed, r["version_id"], r["created_at"], r["document"])
                        for r in store.versions(ctx.conn, managed.policy_id)]
        view.pop("Tags", None)
        out.append(dict(view, PolicyVersionList=versions))
    return out
