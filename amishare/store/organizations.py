from sqlalchemy import bindparam, delete, func, insert, select, update

from amishare.store import generations, paging
from amishare.store.prepared import Query
from amishare.store.schema import (
    create_account_requests,
    handshakes,
    org_accounts,
    org_policies,
    org_policy_attachments,
    org_policy_types,
    org_tags,
    org_units,
    organizations,
)


def org_by_id(conn, org_id):
    return conn.execute(select(organizations).where(organizations.c.org_id == org_id)).mappings().first()


def insert_org(conn, **values):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(insert(organizations).values(**values))


def delete_org(conn, org_id):
    generations.bump(conn, generations.ORGANIZATIONS)
    for table in (org_tags, org_policy_attachments, org_policies, org_policy_types, org_accounts, org_units):
        conn.execute(delete(table).where(table.c.org_id == org_id))
    conn.execute(delete(handshakes).where(handshakes.c.org_id == org_id))
    conn.execute(delete(organizations).where(organizations.c.org_id == org_id))


def membership(conn, account_id):
    return conn.execute(select(org_accounts).where(org_accounts.c.account_id == account_id)).mappings().first()


def insert_member(conn, **values):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(insert(org_accounts).values(**values))


def update_member(conn, account_id, **values):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(update(org_accounts).where(org_accounts.c.account_id == account_id).values(**values))


def delete_member(conn, account_id):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(delete(org_accounts).where(org_accounts.c.account_id == account_id))


def members(conn, org_id=None, parent_id=None, after=None, limit=None):
    t = org_accounts
    query = select(t)
    if org_id is not None:
        query = query.where(t.c.org_id == org_id)
    if parent_id is not None:
        query = query.where(t.c.parent_id == parent_id)
    return paging.page(conn, query, t.c.account_id, after, limit)


def members_under(conn, org_id, path_prefix, after=None, limit=None):
    """The accounts in an OU and every OU below it (their parent's path starts with the OU's),
    in account id order: the OUs by the (org_id, path) index, their accounts by the parent index."""
    t, units = org_accounts, org_units
    inside = select(units.c.node_id).where(units.c.org_id == org_id, units.c.path >= path_prefix,
                                            units.c.path < path_prefix + "\uffff")
    return paging.page(conn, select(t).where(t.c.parent_id.in_(inside)), t.c.account_id, after, limit)


def count_members(conn, org_id) -> int:
    return conn.execute(select(func.count()).select_from(org_accounts).where(org_accounts.c.org_id == org_id)).scalar_one()


def node(conn, node_id):
    return conn.execute(select(org_units).where(org_units.c.node_id == node_id)).mappings().first()


def insert_node(conn, **values):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(insert(org_units).values(**values))


def update_node(conn, node_id, **values):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(update(org_units).where(org_units.c.node_id == node_id).values(**values))


def delete_node(conn, node_id):
    generations.bump(conn, generations.ORGANIZATIONS)
    conn.execute(delete(org_units).where(org_units.c.node_id == node_id))


def child_units(conn, parent_id, after=None, limit=None):
    t = org_units
    query = select(t).where(t.c.parent_id == parent_id)
    return paging.page(conn, query, t.c.node_id, after, limit)


def unit_named(conn, parent_id, name):
    t = org_units
    return conn.execute(select(t).where(t.c.parent_id == parent_id, t.c.name == name)).mappings().first()


def has_children(conn, node_id) -> bool:
    if conn.execute(select(org_units.c.node_id).where(org_units.c.parent_id == node_id).limit(1)).first():
        return True
    return conn.execute(select(org_accounts.c.account_id).where(org_accounts.c.parent_id == node_id).limit(1)).first() is not None


def handshake(conn, handshake_id):
    return conn.execute(select(handshakes).where(handshakes.c.handshake_id == handshake_id)).mappings().first()


def insert_handshake(conn, **values):
    conn.execute(insert(handshakes).values(**values))


def update_handshake(conn, handshake_id, **values):
    conn.execute(update(handshakes).where(handshakes.c.handshake_id == handshake_id).values(**values))


def handshakes_for(conn, target_account_id=None, org_id=None, after=None, limit=None):
    t = handshakes
    query = select(t)
    if target_account_id is not None:
        query = query.where(t.c.target_account_id == target_account_id)
    if org_id is not None:
        query = query.where(t.c.org_id == org_id)
    return paging.page(conn, query, t.c.handshake_id, after, limit)


def open_handshakes(conn, org_id, target_account_id):
    t = handshakes
    query = select(t).where(t.c.org_id == org_id, t.c.target_account_id == target_account_id,
                            t.c.state.in_(["REQUESTED", "OPEN"]))
    return conn.execute(query).mappings().all()


def insert_create_request(conn, **values):
    conn.execute(insert(create_account_requests).values(**values))


def create_request(conn, request_id):
    t = create_account_requests
    return conn.execute(select(t).where(t.c.request_id == request_id)).mappings().first()


_ACCOUNT_ORG = Query(
    select(org_accounts.c.org_id, organizations.c.management_account_id, org_units.c.path,
           org_policy_types.c.status.label("type_status"))
    .join(organizations, organizations.c.org_id == org_accounts.c.org_id)
    .join(org_units, org_units.c.node_id == org_accounts.c.parent_id)
    .outerjoin(org_policy_types, (org_policy_types.c.org_id == org_accounts.c.org_id)
               & (org_policy_types.c.policy_type == bindparam("policy_type")))
    .where(org_accounts.c.account_id == bindparam("account_id"))
)


def account_org(conn, account_id, policy_type):
    """What authorization and launch permissions need of an account's organization, in one indexed
    read: (org_id, management_account_id, path of the account's parent, status of `policy_type`
    or None), or None when the account is in no organization."""
    return _ACCOUNT_ORG.first(conn, account_id=account_id, policy_type=policy_type)


def accounts_under(conn, org_id, path_prefix) -> list[str]:
    """The member accounts whose parent's path starts with `path_prefix` (a root's or an OU's
    path): the accounts of that subtree, through the organization's member index."""
    query = (select(org_accounts.c.account_id)
             .join(org_units, org_units.c.node_id == org_accounts.c.parent_id)
             .where(org_accounts.c.org_id == org_id, org_units.c.path.startswith(path_prefix, autoescape=True))
             .order_by(org_accounts.c.account_id))
    return [row.account_id for row in conn.execute(query)]
