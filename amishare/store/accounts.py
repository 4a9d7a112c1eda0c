from sqlalchemy import bindparam, insert, select

from amishare.store.schema import access_keys, accounts


def insert_account(conn, **values) -> None:
    conn.execute(insert(accounts).values(**values))


_ACCOUNT = select(accounts).where(accounts.c.account_id == bindparam("account_id"))


def get_account(conn, account_id: str):
    return conn.execute(_ACCOUNT, {"account_id": account_id}).mappings().first()


def list_accounts(conn):
    return conn.execute(select(accounts).order_by(accounts.c.created_at, accounts.c.account_id)).mappings().all()


def insert_access_key(conn, **values) -> None:
    conn.execute(insert(access_keys).values(**values))


def get_access_key(conn, access_key_id: str):
    return conn.execute(select(access_keys).where(access_keys.c.access_key_id == access_key_id)).mappings().first()


def keys_of(conn, account_id: str):
    """The access keys of the account's root user (not those of its IAM users)."""
    query = select(access_keys).where(access_keys.c.account_id == account_id, access_keys.c.user_id.is_(None))
    return conn.execute(query).mappings().all()


def account_with_email(conn, email):
    return conn.execute(select(accounts).where(accounts.c.email == email).limit(1)).mappings().first()
