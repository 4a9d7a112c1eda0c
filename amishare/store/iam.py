"""SQL for IAM users, groups, roles, managed and inline policies, and STS sessions.

Every lookup goes through a primary key or an index: entities by (account, lower-cased
name) or id, keys by id or user, memberships by group or user, attachments by entity
or by (account, policy ARN), sessions by key id or role.
"""

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from amishare.store import generations
from amishare.store.prepared import Query
from amishare.store.schema import usage_counters
from amishare.store.schema import (
    access_keys,
    iam_attachments,
    iam_group_members,
    iam_groups,
    iam_inline_policies,
    iam_login_profiles,
    iam_policies,
    iam_policy_versions,
    iam_roles,
    iam_sessions,
    iam_users,
)

_ENTITIES = {
    "user": (iam_users, iam_users.c.user_id),
    "group": (iam_groups, iam_groups.c.group_id),
    "role": (iam_roles, iam_roles.c.role_id),
    "policy": (iam_policies, iam_policies.c.policy_id),
}


# --- users, groups, roles and customer managed policies


def insert_entity(conn, kind: str, **values) -> None:
    conn.execute(insert(_ENTITIES[kind][0]).values(**values))


def entity_by_name(conn, kind: str, account_id: str, name: str, lock: bool = False):
    table, _ = _ENTITIES[kind]
    query = select(table).where(table.c.account_id == account_id, table.c.name_key == name.lower())
    if lock:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def entity_by_id(conn, kind: str, entity_id: str):
    table, key = _ENTITIES[kind]
    return conn.execute(select(table).where(key == entity_id)).mappings().first()


def list_entities(conn, kind: str, account_id: str, path_prefix: str, after: str | None, limit: int,
                  inclusive: bool = False):
    """Rows in name order after the name key `after` (or from it, if `inclusive`), at most `limit`."""
    table, _ = _ENTITIES[kind]
    query = select(table).where(table.c.account_id == account_id)
    if path_prefix and path_prefix != "/":
        query = query.where(table.c.path.startswith(path_prefix, autoescape=True))
    if after is not None:
        query = query.where(table.c.name_key >= after if inclusive else table.c.name_key > after)
    return conn.execute(query.order_by(table.c.name_key).limit(limit)).mappings().all()


def update_entity(conn, kind: str, entity_id: str, **values) -> None:
    table, key = _ENTITIES[kind]
    conn.execute(update(table).where(key == entity_id).values(**values))


def delete_entity(conn, kind: str, entity_id: str) -> None:
    table, key = _ENTITIES[kind]
    conn.execute(delete(table).where(key == entity_id))


# --- group membership


def add_member(conn, group_id: str, user_id: str) -> None:
    conn.execute(insert(iam_group_members).values(group_id=group_id, user_id=user_id))


def is_member(conn, group_id: str, user_id: str) -> bool:
    query = select(iam_group_members.c.user_id).where(
        iam_group_members.c.group_id == group_id, iam_group_members.c.user_id == user_id)
    return conn.execute(query).first() is not None


def remove_member(conn, group_id: str, user_id: str) -> None:
    conn.execute(delete(iam_group_members).where(
        iam_group_members.c.group_id == group_id, iam_group_members.c.user_id == user_id))


def members(conn, group_id: str, after: str | None, limit: int):
    query = select(iam_users).join(iam_group_members, iam_group_members.c.user_id == iam_users.c.user_id).where(
        iam_group_members.c.group_id == group_id)
    if after is not None:
        query = query.where(iam_users.c.name_key > after)
    return conn.execute(query.order_by(iam_users.c.name_key).limit(limit)).mappings().all()


def groups_of(conn, user_id: str, after: str | None = None, limit: int | None = None):
    query = select(iam_groups).join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.group_id).where(
        iam_group_members.c.user_id == user_id)
    if after is not None:
        query = query.where(iam_groups.c.name_key > after)
    query = query.order_by(iam_groups.c.name_key)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).mappings().all()


def group_names_of(conn, user_ids: list[str]) -> dict[str, list[str]]:
    """user id -> the names of its groups."""
    out: dict[str, list[str]] = {}
    if not user_ids:
        return out
    query = select(iam_group_members.c.user_id, iam_groups.c.name).join(
        iam_groups, iam_groups.c.group_id == iam_group_members.c.group_id).where(
        iam_group_members.c.user_id.in_(user_ids)).order_by(iam_groups.c.name_key)
    for user_id, name in conn.execute(query):
        out.setdefault(user_id, []).append(name)
    return out


def has_members(conn, group_id: str) -> bool:
    query = select(iam_group_members.c.user_id).where(iam_group_members.c.group_id == group_id).limit(1)
    return conn.execute(query).first() is not None


def in_any_group(conn, user_id: str) -> bool:
    query = select(iam_group_members.c.group_id).where(iam_group_members.c.user_id == user_id).limit(1)
    return conn.execute(query).first() is not None


# --- access keys of users (the root user's keys have user_id NULL)


def keys_of_user(conn, account_id: str, user_id: str | None):
    query = select(access_keys).where(access_keys.c.account_id == account_id)
    query = query.where(access_keys.c.user_id.is_(None) if user_id is None else access_keys.c.user_id == user_id)
    return conn.execute(query.order_by(access_keys.c.created_at, access_keys.c.access_key_id)).mappings().all()


def update_key(conn, access_key_id: str, **values) -> None:
    conn.execute(update(access_keys).where(access_keys.c.access_key_id == access_key_id).values(**values))


def delete_key(conn, access_key_id: str) -> None:
    conn.execute(delete(access_keys).where(access_keys.c.access_key_id == access_key_id))


POLICY_GENERATION = "iam_policy_generation"  # a usage counter per account (Region "global")


def _generation(account_id_column):
    """The account's policy generation, joined by primary key: bumped by every IAM change."""
    return and_(usage_counters.c.account_id == account_id_column, usage_counters.c.region == "global",
                usage_counters.c.name == POLICY_GENERATION)


def _caches(account_id_column):
    """The generations a worker's caches are keyed by (store.generations), read with the credential."""
    org, allowed = generations.counters("org_generation"), generations.counters("allowed_images_generation")
    columns = (func.coalesce(org.c.value, 0).label("org_generation"),
               func.coalesce(allowed.c.value, 0).label("allowed_images_generation"))
    return columns, ((org, generations.counter_join(org, generations.ANY_ACCOUNT, generations.ORGANIZATIONS)),
                     (allowed, generations.counter_join(allowed, account_id_column, generations.ALLOWED_IMAGES)))


def _with_caches(query, source, account_id_column):
    columns, joins = _caches(account_id_column)
    for table, condition in joins:
        source = source.outerjoin(table, condition)
    return query.add_columns(*columns).select_from(source)


_KEY_WITH_USER = Query(_with_caches(
    select(
        access_keys.c.access_key_id, access_keys.c.account_id, access_keys.c.secret_ciphertext,
        access_keys.c.status, access_keys.c.user_id, iam_users.c.name, iam_users.c.path, iam_users.c.tags,
        func.coalesce(usage_counters.c.value, 0).label("policy_generation"),
    ).where(access_keys.c.access_key_id == bindparam("access_key_id")),
    access_keys.outerjoin(iam_users, iam_users.c.user_id == access_keys.c.user_id)
    .outerjoin(usage_counters, _generation(access_keys.c.account_id)), access_keys.c.account_id))


def key_with_user(conn, access_key_id: str):
    """The key and, for a user's key, the user's name, path and tags, the account's policy
    generation and the generations of the caches (store.generations): one indexed read."""
    return _KEY_WITH_USER.first(conn, access_key_id=access_key_id)


# --- managed policy versions


def insert_version(conn, **values) -> None:
    conn.execute(insert(iam_policy_versions).values(**values))


def versions(conn, policy_id: str):
    query = select(iam_policy_versions).where(iam_policy_versions.c.policy_id == policy_id)
    return conn.execute(query.order_by(iam_policy_versions.c.created_at)).mappings().all()


def version(conn, policy_id: str, version_id: str):
    query = select(iam_policy_versions).where(
        iam_policy_versions.c.policy_id == policy_id, iam_policy_versions.c.version_id == version_id)
    return conn.execute(query).mappings().first()


def delete_version(conn, policy_id: str, version_id: str) -> None:
    conn.execute(delete(iam_policy_versions).where(
        iam_policy_versions.c.policy_id == policy_id, iam_policy_versions.c.version_id == version_id))


def delete_versions(conn, policy_id: str) -> None:
    conn.execute(delete(iam_policy_versions).where(iam_policy_versions.c.policy_id == policy_id))


def default_documents(conn, policy_ids: list[str]) -> dict[str, str]:
    """policy id -> the document of its default version."""
    if not policy_ids:
        return {}
    query = select(iam_policies.c.policy_id, iam_policy_versions.c.document).join(
        iam_policy_versions, and_(iam_policy_versions.c.policy_id == iam_policies.c.policy_id,
                                  iam_policy_versions.c.version_id == iam_policies.c.default_version)).where(
        iam_policies.c.policy_id.in_(policy_ids))
    return {row.policy_id: row.document for row in conn.execute(query)}


# --- attachments of managed policies


def attach(conn, account_id: str, kind: str, entity_id: str, policy_arn: str) -> None:
    conn.execute(insert(iam_attachments).values(account_id=account_id, entity_kind=kind, entity_id=entity_id,
                                                policy_arn=policy_arn))


def detach(conn, kind: str, entity_id: str, policy_arn: str) -> int:
    return conn.execute(delete(iam_attachments).where(
        iam_attachments.c.entity_kind == kind, iam_attachments.c.entity_id == entity_id,
        iam_attachments.c.policy_arn == policy_arn)).rowcount


def attached(conn, kind: str, entity_ids: list[str]) -> list:
    if not entity_ids:
        return []
    query = select(iam_attachments).where(iam_attachments.c.entity_kind == kind,
                                          iam_attachments.c.entity_id.in_(entity_ids))
    return conn.execute(query.order_by(iam_attachments.c.policy_arn)).mappings().all()


def attachment_counts(conn, account_id: str, policy_arns: list[str]) -> dict[str, int]:
    if not policy_arns:
        return {}
    query = select(iam_attachments.c.policy_arn, func.count()).where(
        iam_attachments.c.account_id == account_id, iam_attachments.c.policy_arn.in_(policy_arns)).group_by(
        iam_attachments.c.policy_arn)
    return {arn: count for arn, count in conn.execute(query)}


def attachments_of_policy(conn, account_id: str, policy_arn: str, kind: str | None = None,
                          after: tuple[str, str] | None = None, limit: int | None = None):
    """The policy's attachments in the account, in (entity kind, entity id) order: of one kind,
    after the attachment `after`, at most `limit`."""
    t = iam_attachments
    query = select(t).where(t.c.account_id == account_id, t.c.policy_arn == policy_arn)
    if kind is not None:
        query = query.where(t.c.entity_kind == kind)
    if after is not None:
        query = query.where(or_(t.c.entity_kind > after[0], and_(t.c.entity_kind == after[0], t.c.entity_id > after[1])))
    query = query.order_by(t.c.entity_kind, t.c.entity_id)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).mappings().all()


def attached_arns(conn, account_id: str) -> list[str]:
    query = select(iam_attachments.c.policy_arn).where(iam_attachments.c.account_id == account_id).distinct()
    return [arn for (arn,) in conn.execute(query)]


def boundary_counts(conn, account_id: str, policy_arns: list[str]) -> dict[str, int]:
    """policy ARN -> how many of the account's users and roles have it as permissions boundary."""
    counts: dict[str, int] = {}
    if not policy_arns:
        return counts
    for table in (iam_users, iam_roles):
        query = select(table.c.boundary_arn, func.count()).where(
            table.c.account_id == account_id, table.c.boundary_arn.in_(policy_arns)).group_by(table.c.boundary_arn)
        for arn, count in conn.execute(query):
            counts[arn] = counts.get(arn, 0) + count
    return counts


def boundary_arns(conn, account_id: str) -> list[str]:
    arns: set[str] = set()
    for table in (iam_users, iam_roles):
        query = select(table.c.boundary_arn).where(table.c.account_id == account_id,
                                                   table.c.boundary_arn.is_not(None)).distinct()
        arns.update(arn for (arn,) in conn.execute(query))
    return sorted(arns)


# --- inline policies


def put_inline(conn, kind: str, entity_id: str, name: str, document: str) -> None:
    delete_inline(conn, kind, entity_id, name)
    conn.execute(insert(iam_inline_policies).values(entity_kind=kind, entity_id=entity_id, policy_name=name,
                                                    document=document))


def inline(conn, kind: str, entity_id: str, name: str):
    query = select(iam_inline_policies).where(
        iam_inline_policies.c.entity_kind == kind, iam_inline_policies.c.entity_id == entity_id,
        iam_inline_policies.c.policy_name == name)
    return conn.execute(query).mappings().first()


def inline_of(conn, kind: str, entity_ids: list[str]):
    if not entity_ids:
        return []
    query = select(iam_inline_policies).where(iam_inline_policies.c.entity_kind == kind,
                                              iam_inline_policies.c.entity_id.in_(entity_ids))
    return conn.execute(query.order_by(iam_inline_policies.c.policy_name)).mappings().all()


def delete_inline(conn, kind: str, entity_id: str, name: str) -> int:
    return conn.execute(delete(iam_inline_policies).where(
        iam_inline_policies.c.entity_kind == kind, iam_inline_policies.c.entity_id == entity_id,
        iam_inline_policies.c.policy_name == name)).rowcount


# --- STS sessions


def insert_session(conn, **values) -> None:
    conn.execute(insert(iam_sessions).values(**values))


_SESSION_WITH_ROLE = Query(_with_caches(
    select(
        iam_sessions, iam_roles.c.name.label("role_name"), iam_roles.c.path.label("role_path"),
        iam_roles.c.tags.label("role_tags"), func.coalesce(usage_counters.c.value, 0).label("policy_generation"),
    ).where(iam_sessions.c.access_key_id == bindparam("access_key_id")),
    iam_sessions.join(iam_roles, iam_roles.c.role_id == iam_sessions.c.role_id)
    .outerjoin(usage_counters, _generation(iam_sessions.c.account_id)), iam_sessions.c.account_id))


def session_with_role(conn, access_key_id: str):
    """The session and its role's name, path and tags (and the generations, as key_with_user): one indexed read."""
    return _SESSION_WITH_ROLE.first(conn, access_key_id=access_key_id)


def session(conn, access_key_id: str):
    return conn.execute(select(iam_sessions).where(iam_sessions.c.access_key_id == access_key_id)).mappings().first()


def delete_sessions(conn, role_id: str, expired_before: float | None = None) -> None:
    query = delete(iam_sessions).where(iam_sessions.c.role_id == role_id)
    if expired_before is not None:
        query = query.where(iam_sessions.c.expires_at < expired_before)
    conn.execute(query)


# --- login profiles (console passwords)


def login_profile(conn, user_id: str):
    return conn.execute(select(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id)).mappings().first()


def put_login_profile(conn, user_id: str, **values) -> None:
    if login_profile(conn, user_id) is None:
        conn.execute(insert(iam_login_profiles).values(user_id=user_id, **values))
    else:
        values.pop("created_at", None)
        values.pop("account_id", None)
        conn.execute(update(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id).values(**values))


def delete_login_profile(conn, user_id: str) -> int:
    return conn.execute(delete(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id)).rowcount
