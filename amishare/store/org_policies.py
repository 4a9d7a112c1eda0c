"""Organization policies: policy types enabled in a root, policies, their attachments
to the root, OUs and accounts, and tags on Organizations resources. Every read
goes through a primary key or an index whose range the answer bounds."""

from sqlalchemy import bindparam, delete, func, insert, literal, select, update

from amishare.store import generations, paging
from amishare.store.schema import (
    org_accounts,
    org_policies,
    org_policy_attachments,
    org_policy_types,
    org_tags,
    org_units,
    organizations,
)

att = org_policy_attachments


def lock_org(conn, org_id, share: bool = False) -> None:
    """Serialize the policy changes of one organization (PostgreSQL; SQLite writers are serialized anyway).
    `share` is for changes to the tree that must see a consistent policy-type state."""
    query = select(organizations.c.org_id).where(organizations.c.org_id == org_id).with_for_update(read=share)
    conn.execute(query).first()


# --- policy types


def enabled_types(conn, org_id) -> list[str]:
    t = org_policy_types
    rows = conn.execute(select(t.c.policy_type).where(t.c.org_id == org_id).order_by(t.c.policy_type))
    return [row.policy_type for row in rows]


def type_enabled(conn, org_id, policy_type) -> bool:
    t = org_policy_types
    query = select(t.c.status).where(t.c.org_id == org_id, t.c.policy_type == policy_type)
    return conn.execute(query).first() is not None


def enable_type(conn, org_id, policy_type, now) -> None:
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(insert(org_policy_types).values(org_id=org_id, policy_type=policy_type, status="ENABLED", enabled_at=now))


def disable_type(conn, org_id, policy_type) -> None:
    generations.bump(conn, generations.ORGANIZATIONS)
    t = org_policy_types
    conn.execute(delete(t).where(t.c.org_id == org_id, t.c.policy_type == policy_type))
    conn.execute(delete(att).where(att.c.org_id == org_id, att.c.policy_type == policy_type))


# --- policies


def policy(conn, policy_id):
    return conn.execute(select(org_policies).where(org_policies.c.policy_id == policy_id)).mappings().first()


def policy_named(conn, org_id, policy_type, name):
    t = org_policies
    query = select(t.c.policy_id).where(t.c.org_id == org_id, t.c.policy_type == policy_type, t.c.name == name)
    return conn.execute(query).first()


def insert_policy(conn, **values) -> None:
    conn.execute(insert(org_policies).values(**values))


def update_policy(conn, policy_id, **values) -> None:
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(update(org_policies).where(org_policies.c.policy_id == policy_id).values(**values))


def delete_policy(conn, policy_id) -> None:
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(delete(org_tags).where(org_tags.c.resource_id == policy_id))
    conn.execute(delete(org_policies).where(org_policies.c.policy_id == policy_id))


def policies(conn, org_id, policy_type, after=None, limit=None):
    t = org_policies
    query = select(t).where(t.c.org_id == org_id, t.c.policy_type == policy_type)
    return paging.page(conn, query, t.c.policy_id, after, limit)


# --- attachments


def attach(conn, org_id, policy_id, policy_type, target_ids, now) -> None:
    generations.bump(conn, generations.ORGANIZATIONS)
    rows = [dict(target_id=t, policy_id=policy_id, org_id=org_id, policy_type=policy_type, attached_at=now)
            for t in target_ids]
    if rows:
        conn.execute(insert(att), rows)


def attach_everywhere(conn, org_id, policy_id, policy_type, now) -> None:
    """Attach a policy to the root, every OU and every account of an organization, two statements."""
    generations.bump(conn, generations.ORGANIZATIONS)
    columns = ["target_id", "policy_id", "org_id", "policy_type", "attached_at"]
    constants = (literal(policy_id), literal(org_id), literal(policy_type), literal(now))
    nodes = select(org_units.c.node_id, *constants).where(org_units.c.org_id == org_id)
    members = select(org_accounts.c.account_id, *constants).where(org_accounts.c.org_id == org_id)
    conn.execute(insert(att).from_select(columns, nodes))
    conn.execute(insert(att).from_select(columns, members))


def detach(conn, policy_id, target_id) -> None:
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(delete(att).where(att.c.target_id == target_id, att.c.policy_id == policy_id))


def attachment(conn, policy_id, target_id):
    query = select(att).where(att.c.target_id == target_id, att.c.policy_id == policy_id)
    return conn.execute(query).mappings().first()


def count_attached(conn, target_id, policy_type) -> int:
    query = select(func.count()).select_from(att).where(att.c.target_id == target_id, att.c.policy_type == policy_type)
    return conn.execute(query).scalar_one()


def is_attached_anywhere(conn, org_id, policy_id) -> bool:
    query = select(att.c.target_id).where(att.c.org_id == org_id, att.c.policy_id == policy_id).limit(1)
    return conn.execute(query).first() is not None


def forget_target(conn, target_id) -> None:
    """A target leaves the organization (a deleted OU, a removed account): its attachments and tags go."""
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(delete(att).where(att.c.target_id == target_id))
    conn.execute(delete(org_tags).where(org_tags.c.resource_id == target_id))


def attached_to(conn, org_id, target_id, policy_type, after=None, limit=None):
    """The policies attached directly to a target: policy_id and the policy's row (None for a built-in policy)."""
    p = org_policies
    query = (select(att.c.policy_id, p.c.name, p.c.description, p.c.content)
             .select_from(att.outerjoin(p, p.c.policy_id == att.c.policy_id))
             .where(att.c.target_id == target_id, att.c.org_id == org_id, att.c.policy_type == policy_type))
    return paging.page(conn, query, att.c.policy_id, after, limit)


def targets_of(conn, org_id, policy_id, after=None, limit=None):
    """The targets a policy is attached to, with their names (the root's or an OU's, else the account's)."""
    query = (select(att.c.target_id, org_units.c.name.label("node_name"), org_accounts.c.name.label("account_name"))
             .select_from(att.outerjoin(org_units, org_units.c.node_id == att.c.target_id)
                          .outerjoin(org_accounts, org_accounts.c.account_id == att.c.target_id))
             .where(att.c.org_id == org_id, att.c.policy_id == policy_id))
    return paging.page(conn, query, att.c.target_id, after, limit)


_ON_PATH = (
    select(att.c.target_id, att.c.policy_id, org_policies.c.content, att.c.attached_at,
           func.coalesce(org_policies.c.updated_at, org_policies.c.created_at))
    .select_from(att.outerjoin(org_policies, org_policies.c.policy_id == att.c.policy_id))
    .where(att.c.target_id.in_(bindparam("targets", expanding=True)), att.c.org_id == bindparam("org_id"),
           att.c.policy_type == bindparam("policy_type"))
    .order_by(att.c.target_id, att.c.policy_id)
)


def attached_on_path(conn, org_id, target_ids, policy_type, with_times=False):
    """(target_id, policy_id, content or None for a built-in policy) for every target on a path, one indexed read;
    `with_times` adds when each was attached and when the policy was created or last changed."""
    rows = conn.execute(_ON_PATH, {"targets": list(target_ids), "org_id": org_id, "policy_type": policy_type}).all()
    return rows if with_times else [row[:3] for row in rows]


# --- tags


def tags_of(conn, resource_id, after=None, limit=None):
    query = select(org_tags.c.key, org_tags.c.value).where(org_tags.c.resource_id == resource_id)
    return paging.page(conn, query, org_tags.c.key, after, limit)


def put_tags(conn, org_id, resource_id, tags: dict[str, str]) -> None:
    if not tags:
        return
    conn.execute(delete(org_tags).where(org_tags.c.resource_id == resource_id, org_tags.c.key.in_(list(tags))))
    conn.execute(insert(org_tags), [dict(resource_id=resource_id, key=k, value=v, org_id=org_id) for k, v in tags.items()])


def delete_tags(conn, resource_id, keys) -> None:
    if keys:
        conn.execute(delete(org_tags).where(org_tags.c.resource_id == resource_id, org_tags.c.key.in_(list(keys))))
