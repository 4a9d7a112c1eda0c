"""IAM users, groups, roles and access keys of an account, and their tags.

IAM is global: nothing here depends on the Region a request was signed for.
Entity names are unique within an account regardless of case, and are looked up
the same way.
"""

import json

from amishare.domain import accounts, iam_policies, pagination, policy
from amishare.domain import iam_common as common
from amishare.domain.iam_common import find
from amishare.errors import AwsError, constraint_violation, validation_error
from amishare.store import accounts as account_store
from amishare.store import iam as store

MAX_KEYS_PER_USER = 2
MAX_GROUPS_PER_USER = 10
TRUST_POLICY_QUOTA = 2048
DEFAULT_MAX_SESSION = 3600
_KINDS = {"user": "User", "group": "Group", "role": "Role"}


def _create(ctx, kind: str, prefix: str, name: str, max_name: int, path: str | None, **values) -> dict:
    common.check_name(name, f"{kind}Name", max_name)
    path = common.check_path(path)
    if store.entity_by_name(ctx.conn, kind, ctx.account_id, name) is not None:
        raise common.entity_exists(f"{_KINDS[kind]} with name {name} already exists.")
    row = dict(values, **{f"{kind}_id": common.new_unique_id(prefix)}, account_id=ctx.account_id, name=name,
               name_key=name.lower(), path=path, created_at=ctx.now)
    store.insert_entity(ctx.conn, kind, **row)
    return row


def _list(ctx, kind: str, path_prefix: str | None, marker: str | None, max_items: int | None):
    return common.fetch_page(
        lambda after, limit: store.list_entities(ctx.conn, kind, ctx.account_id, path_prefix or "/", after, limit),
        marker, max_items, kind, ctx.account_id, path_prefix)


def _boundary(row) -> dict:
    if not row.get("boundary_arn"):
        return {}
    return {"PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                                    "PermissionsBoundaryArn": row["boundary_arn"]}}


def _no_policies_left(ctx, kind: str, entity_id: str) -> None:
    """DeleteConflict while the entity still has inline or attached policies, as AWS checks."""
    if store.inline_of(ctx.conn, kind, [entity_id]):
        raise common.delete_conflict("Cannot delete entity, must delete policies first.")
    if store.attached(ctx.conn, kind, [entity_id]):
        raise common.delete_conflict("Cannot delete entity, must detach all policies first.")


# --- users


def user_view(row, with_tags: bool = False) -> dict:
    view = {"Path": row["path"], "UserName": row["name"], "UserId": row["user_id"], "Arn": common.row_arn("user", row),
            "CreateDate": row["created_at"], **_boundary(row)}
    if with_tags and json.loads(row["tags"]):
        view["Tags"] = common.tag_list(row["tags"])
    return view


def create_user(ctx, name: str, path: str | None = None, boundary_arn: str | None = None,
                tags: list | None = None) -> dict:
    if boundary_arn:
        iam_policies.check_boundary(ctx, boundary_arn)
    row = _create(ctx, "user", common.USER_PREFIX, name, 64, path, tags=common.tags_json(tags),
                  boundary_arn=boundary_arn or None)
    return user_view(row, with_tags=True)


def get_user(ctx, name: str | None) -> dict:
    if name is None:
        principal = ctx.principal
        if principal.is_root:
            return {"UserId": ctx.account_id, "Arn": principal.arn, "CreateDate": _account_created(ctx)}
        if principal.kind != "user":
            raise _non_user()
        name = principal.name
    return user_view(find(ctx, "user", name), with_tags=True)


def _account_created(ctx) -> float:
    row = account_store.get_account(ctx.conn, ctx.account_id)
    return row["created_at"] if row else ctx.now


def _non_user() -> AwsError:
    return AwsError("ValidationError", "Must specify userName when calling with non-User credentials")


def list_users(ctx, path_prefix, marker, max_items) -> dict:
    rows, more = _list(ctx, "user", path_prefix, marker, max_items)
    return {"Users": [user_view(row) for row in rows], **more}


def delete_user(ctx, name: str) -> None:
    row = find(ctx, "user", name, lock=True)
    if store.keys_of_user(ctx.conn, ctx.account_id, row["user_id"]):
        raise common.delete_conflict("Cannot delete entity, must delete access keys first.")
    if store.login_profile(ctx.conn, row["user_id"]) is not None:
        raise common.delete_conflict("Cannot delete entity, must delete login profile first.")
    _no_policies_left(ctx, "user", row["user_id"])
    if store.in_any_group(ctx.conn, row["user_id"]):
        raise common.delete_conflict("Cannot delete entity, must remove users from group first.")
    store.delete_entity(ctx.conn, "user", row["user_id"])


# --- access keys: a user's, or with no user name the caller's own (the root user's keys for root)


def _key_owner(ctx, user_name: str | None):
    """(user row or None for the root user) whose keys the call is about."""
    if user_name is not None:
        return find(ctx, "user", user_name, lock=True)
    principal = ctx.principal
    if principal.is_root:
        return None
    if principal.kind != "user":
        raise _non_user()
    return find(ctx, "user", principal.name, lock=True)


def _key_view(key, user) -> dict:
    view = {"AccessKeyId": key["access_key_id"], "Status": key["status"], "CreateDate": key["created_at"]}
    if user is not None:
        view["UserName"] = user["name"]
    return view


def create_access_key(ctx, user_name: str | None) -> dict:
    user = _key_owner(ctx, user_name)
    user_id = user["user_id"] if user else None
    if len(store.keys_of_user(ctx.conn, ctx.account_id, user_id)) >= MAX_KEYS_PER_USER:
        raise common.limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
    creds = accounts.add_access_key(ctx.conn, ctx.secrets, ctx.account_id, user_id)
    view = _key_view({"access_key_id": creds.access_key_id, "status": "Active", "created_at": creds.created_at}, user)
    return dict(view, SecretAccessKey=creds.secret_access_key)


def list_access_keys(ctx, user_name: str | None, marker, max_items) -> dict:
    user = _key_owner(ctx, user_name)
    keys = store.keys_of_user(ctx.conn, ctx.account_id, user["user_id"] if user else None)
    return {"AccessKeyMetadata": [_key_view(key, user) for key in keys], "IsTruncated": False}


def _own_key(ctx, user_name: str | None, access_key_id: str):
    user = _key_owner(ctx, user_name)
    key = accounts.key_row(ctx.conn, access_key_id)
    if key is None or key["account_id"] != ctx.account_id or key["user_id"] != (user["user_id"] if user else None):
        raise common.no_such_entity(f"The Access Key with id {access_key_id} cannot be found.")
    return key


def update_access_key(ctx, user_name: str | None, access_key_id: str, status: str) -> None:
    if status not in ("Active", "Inactive"):
        raise validation_error([constraint_violation(status, "status", "Member must be Active or Inactive")])
    _own_key(ctx, user_name, access_key_id)
    store.update_key(ctx.conn, access_key_id, status=status)


def delete_access_key(ctx, user_name: str | None, access_key_id: str) -> None:
    _own_key(ctx, user_name, access_key_id)
    store.delete_key(ctx.conn, access_key_id)


# --- groups


def group_view(row) -> dict:
    return {"Path": row["path"], "GroupName": row["name"], "GroupId": row["group_id"],
            "Arn": common.row_arn("group", row), "CreateDate": row["created_at"]}


def create_group(ctx, name: str, path: str | None) -> dict:
    return group_view(_create(ctx, "group", common.GROUP_PREFIX, name, 128, path))


def get_group(ctx, name: str, marker, max_items) -> dict:
    group = find(ctx, "group", name)
    rows, more = common.fetch_page(lambda after, limit: store.members(ctx.conn, group["group_id"], after, limit),
                                   marker, max_items, "members", group["group_id"])
    return {"Group": group_view(group), "Users": [user_view(row) for row in rows], **more}


def list_groups(ctx, path_prefix, marker, max_items) -> dict:
    rows, more = _list(ctx, "group", path_prefix, marker, max_items)
    return {"Groups": [group_view(row) for row in rows], **more}


def delete_group(ctx, name: str) -> None:
    group = find(ctx, "group", name, lock=True)
    if store.has_members(ctx.conn, group["group_id"]):
        raise common.delete_conflict("Cannot delete entity, must remove users from group first.")
    _no_policies_left(ctx, "group", group["group_id"])
    store.delete_entity(ctx.conn, "group", group["group_id"])


def add_user_to_group(ctx, group_name: str, user_name: str) -> None:
    group = find(ctx, "group", group_name, lock=True)
    user = find(ctx, "user", user_name, lock=True)
    if store.is_member(ctx.conn, group["group_id"], user["user_id"]):
        return
    if len(store.groups_of(ctx.conn, user["user_id"])) >= MAX_GROUPS_PER_USER:
        raise common.limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
    store.add_member(ctx.conn, group["group_id"], user["user_id"])


def remove_user_from_group(ctx, group_name: str, user_name: str) -> None:
    group = find(ctx, "group", group_name)
    user = find(ctx, "user", user_name)
    if not store.is_member(ctx.conn, group["group_id"], user["user_id"]):
        raise common.no_such_entity(f"User {user['name']} is not in group {group['name']}.")
    store.remove_member(ctx.conn, group["group_id"], user["user_id"])


def list_groups_for_user(ctx, user_name: str, marker, max_items) -> dict:
    user = find(ctx, "user", user_name)
    rows, more = common.fetch_page(lambda after, limit: store.groups_of(ctx.conn, user["user_id"], after, limit),
                                   marker, max_items, "groups", user["user_id"])
    return {"Groups": [group_view(row) for row in rows], **more}


# --- roles


def role_view(row, full: bool = True) -> dict:
    view = {"Path": row["path"], "RoleName": row["name"], "RoleId": row["role_id"], "Arn": common.row_arn("role", row),
            "CreateDate": row["created_at"], "AssumeRolePolicyDocument": row["trust_policy"],
            "MaxSessionDuration": row["max_session_duration"]}
    if row["description"] is not None:
        view["Description"] = row["description"]
    if full:
        view.update(_boundary(row))
        if json.loads(row["tags"]):
            view["Tags"] = common.tag_list(row["tags"])
    return view


def check_trust_policy(ctx, text: str) -> str:
    """A role's trust policy: a resource policy on the role that names who may assume it;
    the users and roles it names must exist."""
    document = policy.validate_document(text, resource_policy=True)
    if common.compact_length(text) > TRUST_POLICY_QUOTA:
        raise common.limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}")
    for statement in common.as_list(document["Statement"]):
        if "Resource" in statement or "NotResource" in statement:
            raise common.malformed("Has prohibited field Resource")
        principal = statement.get("Principal", statement.get("NotPrincipal"))
        if isinstance(principal, dict):
            for value in common.as_list(principal.get("AWS")):
                if not _principal_exists(ctx, value):
                    raise common.malformed(f'Invalid principal in policy: "AWS":"{value}"')
    return text


def _principal_exists(ctx, value: str) -> bool:
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or "/" not in parts[5]:
        return True  # "*", account ids, root ARNs, and principals of other kinds are taken as written
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "role"):
        return True
    name = rest.rsplit("/", 1)[-1]
    path = "/" + rest[: -len(name)] if "/" in rest else "/"
    row = store.entity_by_name(ctx.conn, kind, parts[4], name)
    return row is not None and row["path"] == path and row["name"] == name


def create_role(ctx, name: str, trust_policy: str, path=None, description=None, max_session=None,
                boundary_arn=None, tags=None) -> dict:
    check_trust_policy(ctx, trust_policy)
    if boundary_arn:
        iam_policies.check_boundary(ctx, boundary_arn)
    row = _create(ctx, "role", common.ROLE_PREFIX, name, 64, path, trust_policy=trust_policy,
                  description=description, max_session_duration=max_session or DEFAULT_MAX_SESSION,
                  tags=common.tags_json(tags), boundary_arn=boundary_arn or None)
    return role_view(row)


def get_role(ctx, name: str) -> dict:
    return role_view(find(ctx, "role", name))


def list_roles(ctx, path_prefix, marker, max_items) -> dict:
    rows, more = _list(ctx, "role", path_prefix, marker, max_items)
    return {"Roles": [role_view(row, full=False) for row in rows], **more}


def delete_role(ctx, name: str) -> None:
    role = find(ctx, "role", name, lock=True)
    _no_policies_left(ctx, "role", role["role_id"])
    store.delete_sessions(ctx.conn, role["role_id"])
    store.delete_entity(ctx.conn, "role", role["role_id"])


def update_assume_role_policy(ctx, name: str, text: str) -> None:
    role = find(ctx, "role", name, lock=True)
    store.update_entity(ctx.conn, "role", role["role_id"], trust_policy=check_trust_policy(ctx, text))


def update_role(ctx, name: str, description: str | None, max_session: int | None) -> None:
    role = find(ctx, "role", name, lock=True)
    values = {}
    if description is not None:
        values["description"] = description
    if max_session is not None:
        values["max_session_duration"] = max_session
    if values:
        store.update_entity(ctx.conn, "role", role["role_id"], **values)


# --- tags of users and roles


def tag(ctx, kind: str, name: str, tags: list[dict]) -> None:
    row = find(ctx, kind, name, lock=True)
    merged = common.merge_tags(json.loads(row["tags"]), tags, _KINDS[kind])
    store.update_entity(ctx.conn, kind, row[f"{kind}_id"], tags=json.dumps(merged))


def untag(ctx, kind: str, name: str, keys: list[str]) -> None:
    row = find(ctx, kind, name, lock=True)
    store.update_entity(ctx.conn, kind, row[f"{kind}_id"], tags=json.dumps(common.remove_tags(json.loads(row["tags"]),
                                                                                             keys)))


def list_tags(ctx, kind: str, name: str, marker, max_items) -> dict:
    return common.page_tags(find(ctx, kind, name)["tags"], marker, max_items)


# --- the whole configuration of the account


# GetAccountAuthorizationDetails' sections, in the order its pages walk them: (filter, fetch).
_DETAIL_SECTIONS = ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")


def _detail_rows(ctx, section: str, after: str | None, limit: int) -> list[tuple[str, object]]:
    """(name key, row or policy) of one section in name order, after the name key `after`."""
    if section in ("User", "Group", "Role"):
        return [(r["name_key"], r) for r in store.list_entities(ctx.conn, section.lower(), ctx.account_id, "/", after, limit)]
    if section == "LocalManagedPolicy":
        return iam_policies.local_policies(ctx, after, limit)
    return iam_policies.attached_aws_policies(ctx, after, limit)


def authorization_details(ctx, filters: list[str] | None, marker: str | None, max_items: int | None) -> dict:
    """The account's users, groups, roles and managed policies (those of `filters`), MaxItems at a
    time across all of them, in that order; the Marker says where the next page resumes."""
    wanted = [s for s in _DETAIL_SECTIONS if not filters or s in filters]
    criteria = ("authorization-details", ctx.account_id, *wanted)
    resume = common.start_after(marker, *criteria)
    first, after = 0, None
    if resume is not None:  # "section index:name key" (Markers are not secret: checked like any input)
        index, sep, key = resume.partition(":")
        if not (sep and index.isdigit() and int(index) < len(wanted)):
            raise validation_error([constraint_violation(marker, "marker", "Member must be a marker this call returned")])
        first, after = int(index), key or None
    room, found, truncated = common.items(max_items), {s: [] for s in wanted}, None
    for index in range(first, len(wanted)):
        section = wanted[index]
        rows = _detail_rows(ctx, section, after if index == first else None, room + 1)
        if len(rows) > room:
            found[section] += [item for _key, item in rows[:room]]
            last = rows[room - 1][0] if room else ""
            truncated = f"{index}:{last}"
            break
        found[section] += [item for _key, item in rows]
        room -= len(rows)
    out = {"IsTruncated": truncated is not None}
    if truncated is not None:
        out["Marker"] = pagination.encode(truncated, pagination.fingerprint(*criteria))
    conn = ctx.conn
    if "User" in wanted:
        users = found["User"]
        ids = [u["user_id"] for u in users]
        inline, attached = _inline_details(ctx, "user", ids), iam_policies.attached_summary(conn, "user", ids)
        memberships = store.group_names_of(conn, ids)
        out["UserDetailList"] = [dict(user_view(u, with_tags=True), UserPolicyList=inline.get(u["user_id"], []),
                                      GroupList=memberships.get(u["user_id"], []),
                                      AttachedManagedPolicies=attached.get(u["user_id"], [])) for u in users]
    if "Group" in wanted:
        ids = [g["group_id"] for g in found["Group"]]
        inline, attached = _inline_details(ctx, "group", ids), iam_policies.attached_summary(conn, "group", ids)
        out["GroupDetailList"] = [dict(group_view(g), GroupPolicyList=inline.get(g["group_id"], []),
                                       AttachedManagedPolicies=attached.get(g["group_id"], [])) for g in found["Group"]]
    if "Role" in wanted:
        ids = [r["role_id"] for r in found["Role"]]
        inline, attached = _inline_details(ctx, "role", ids), iam_policies.attached_summary(conn, "role", ids)
        out["RoleDetailList"] = [dict(role_view(r), InstanceProfileList=[], RolePolicyList=inline.get(r["role_id"], []),
                                      AttachedManagedPolicies=attached.get(r["role_id"], [])) for r in found["Role"]]
    out["Policies"] = iam_policies.policy_details(ctx, found.get("LocalManagedPolicy", []) +
                                                  found.get("AWSManagedPolicy", []))
    return out


def _inline_details(ctx, kind: str, ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in store.inline_of(ctx.conn, kind, ids):
        out.setdefault(row["entity_id"], []).append({"PolicyName": row["policy_name"], "PolicyDocument": row["document"]})
    return out
