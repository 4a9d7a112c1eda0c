"""Per-account, per-region settings and usage counters."""

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from amishare.store.columns import check_fits
from amishare.store.schema import account_settings, idempotency, meta, usage_counters


def get_setting(conn, account_id, region, name):
    t = account_settings
    query = select(t).where(t.c.account_id == account_id, t.c.region == region, t.c.name == name)
    return conn.execute(query).mappings().first()


def regions_set_to(conn, account_id, name, value) -> list[str]:
    """The Regions where an account's setting `name` is `value` (through the primary key)."""
    t = account_settings
    query = select(t.c.region).where(t.c.account_id == account_id, t.c.name == name, t.c.value == value)
    return [row.region for row in conn.execute(query)]


def put_setting(conn, account_id, region, name, value, previous_value=None, effective_at=None) -> None:
    t = account_settings
    values = dict(value=value, previous_value=previous_value, effective_at=effective_at)
    where = (t.c.account_id == account_id, t.c.region == region, t.c.name == name)
    if conn.execute(update(t).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert(t).values(account_id=account_id, region=region, name=name, **values))


def counter(conn, account_id, region, name) -> int:
    """The count, locked until the transaction ends where the database can, so that two
    concurrent calls can't both pass a quota check on PostgreSQL."""
    t = usage_counters
    query = select(t.c.value).where(t.c.account_id == account_id, t.c.region == region, t.c.name == name)
    if conn.dialect.name == "postgresql":
        # The row must exist to be locked: a missing one would let two calls both read 0
        # (each UPDATE then sees the other's committed row under READ COMMITTED).
        conn.execute(pg_insert(t).values(account_id=account_id, region=region, name=name, value=0)
                     .on_conflict_do_nothing())
        query = query.with_for_update()
    return conn.execute(query).scalar() or 0


def add_to_counter(conn, account_id, region, name, delta: int) -> None:
    t = usage_counters
    where = (t.c.account_id == account_id, t.c.region == region, t.c.name == name)
    if conn.execute(update(t).where(*where).values(value=t.c.value + delta)).rowcount == 0:
        conn.execute(insert(t).values(account_id=account_id, region=region, name=name, value=max(delta, 0)))


def get_meta(conn, key):
    return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()


def put_meta(conn, key, value) -> None:
    if conn.execute(update(meta).where(meta.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(insert(meta).values(key=key, value=value))


def get_idempotent(conn, account_id, region, operation, token):
    t = idempotency
    query = select(t).where(
        t.c.account_id == account_id, t.c.region == region, t.c.operation == operation, t.c.client_token == token
    )
    return conn.execute(query).mappings().first()


def put_idempotent(conn, **values) -> None:
    check_fits(idempotency, values)
    conn.execute(insert(idempotency).values(**values))


def delete_setting(conn, account_id, region, name) -> None:
    t = account_settings
    conn.execute(t.delete().where(t.c.account_id == account_id, t.c.region == region, t.c.name == name))
