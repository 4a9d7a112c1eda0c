from sqlalchemy import bindparam, delete, insert, select, update

from amishare.store import paging
from amishare.store.schema import kms_aliases, kms_grants, kms_keys

_KEY = select(kms_keys).where(kms_keys.c.key_id == bindparam("key_id"))
_ALIAS = select(kms_aliases).where(kms_aliases.c.account_id == bindparam("account_id"),
                                   kms_aliases.c.region == bindparam("region"),
                                   kms_aliases.c.alias_name == bindparam("alias_name"))


def key(conn, key_id):
    return conn.execute(_KEY, {"key_id": key_id}).mappings().first()


def insert_key(conn, **values):
    conn.execute(insert(kms_keys).values(**values))


def update_key(conn, key_id, **values):
    conn.execute(update(kms_keys).where(kms_keys.c.key_id == key_id).values(**values))


def keys_of(conn, account_id, region, after=None, limit=None):
    t = kms_keys
    query = select(t).where(t.c.account_id == account_id, t.c.region == region)
    return paging.page(conn, query, t.c.key_id, after, limit)


def alias(conn, account_id, region, alias_name):
    return conn.execute(_ALIAS, {"account_id": account_id, "region": region, "alias_name": alias_name}).mappings().first()


def insert_alias(conn, **values):
    conn.execute(insert(kms_aliases).values(**values))


def aliases_of(conn, account_id, region, key_id=None, after=None, limit=None):
    t = kms_aliases
    query = select(t).where(t.c.account_id == account_id, t.c.region == region)
    if key_id:
        query = query.where(t.c.key_id == key_id)
    return paging.page(conn, query, t.c.alias_name, after, limit)


def delete_alias(conn, account_id, region, alias_name):
    t = kms_aliases
    conn.execute(delete(t).where(t.c.account_id == account_id, t.c.region == region, t.c.alias_name == alias_name))


_KEY_GRANTS = select(kms_grants).where(kms_grants.c.key_id == bindparam("key_id")).order_by(kms_grants.c.grant_id)


def grants(conn, key_id, grant_id=None, grantee=None, after=None, limit=None):
    t = kms_grants
    if grant_id is None and grantee is None and after is None and limit is None:
        return conn.execute(_KEY_GRANTS, {"key_id": key_id}).mappings().all()  # every grant of the key (authorization)
    query = select(t).where(t.c.key_id == key_id)
    if grant_id is not None:
        query = query.where(t.c.grant_id == grant_id)
    if grantee is not None:
        query = query.where(t.c.grantee_principal == grantee)
    return paging.page(conn, query, t.c.grant_id, after, limit)


def insert_grant(conn, **values):
    conn.execute(insert(kms_grants).values(**values))


def delete_grant(conn, key_id, grant_id) -> int:
    t = kms_grants
    return conn.execute(delete(t).where(t.c.key_id == key_id, t.c.grant_id == grant_id)).rowcount
