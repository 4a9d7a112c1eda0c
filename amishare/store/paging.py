"""Keyset pagination over index-driven branches.

A listing is the union of branches, each `(driver, extra_conditions)`. The driver
names one index range: an owner's resources, the public set, a grantee's
permissions, a list of ids. A resource's store module turns a driver into the
select of that range and the key columns it is ordered by (`branch(region, driver)`);
every branch then reads at most `limit` rows past the last key returned, so the
cost of a page follows the page size, not the size of the table.

A key is one column, or a tuple of columns for a composite key; `after` is then
a tuple of values.
"""

import heapq

from sqlalchemy import and_, or_, select, true, union_all

from amishare.store.db import check_deadline

# Branches are sent to the database together, as one UNION ALL each (one round trip,
# within SQLite's limit on compound selects).
BRANCHES_PER_STATEMENT = 100


def _columns(key) -> tuple:
    return tuple(key) if isinstance(key, (tuple, list)) else (key,)


def _past(columns, values):
    """Rows whose key comes after `values` in key order (a row comparison, spelt out so
    that every database walks the index with it)."""
    condition = None
    for column, value in reversed(list(zip(columns, values))):
        condition = column > value if condition is None else or_(column > value, and_(column == value, condition))
    return condition


def keyset(query, key, after=None, limit=None):
    """The query ordered by `key`, resuming after the key `after`, cut at `limit` rows."""
    columns = _columns(key)
    if after:
        query = query.where(_past(columns, _columns(after)))
    query = query.order_by(*columns)
    if limit is not None:
        query = query.limit(limit)
    return query


def page(conn, query, key, after=None, limit=None):
    return conn.execute(keyset(query, key, after, limit)).mappings().all()


def row_key(names):
    """The function giving a row's key, by the key's column names."""
    if len(names) == 1:
        name = names[0]
        return lambda row: row[name]
    return lambda row: tuple(row[n] for n in names)


def merge(streams, key, limit=None) -> list:
    """Union of row lists each sorted by `key` (a column name or a tuple of names), without
    duplicates, cut at `limit`."""
    key_of = row_key(_columns(key))
    merged, seen = [], set()
    for row in heapq.merge(*streams, key=key_of):
        if key_of(row) in seen:
            continue
        seen.add(key_of(row))
        merged.append(row)
        if limit is not None and len(merged) >= limit:
            break
    return merged


def driven(table, key, region, driver):
    """The index ranges most tables share, each within the Region: ("owner", account id) on the
    owner index, ("public", _) on the public index, ("ids", ids) on the primary key, and
    ("owner_ids", (account id, ids)) for those of the ids the account owns."""
    kind, value = driver
    query = select(table).where(table.c.region == region)
    if kind == "owner":
        query = query.where(table.c.owner_id == value)
    elif kind == "public":
        query = query.where(table.c.is_public == true())
    elif kind == "ids":
        query = query.where(_columns(key)[0].in_(list(value)))
    elif kind == "owner_ids":
        owner_id, ids = value
        query = query.where(table.c.owner_id == owner_id, _columns(key)[0].in_(list(ids)))
    else:
        raise ValueError(f"no index range {kind!r} on {table.name}")
    return query, key


def select_branches(conn, branch, branches, conditions, after=None, limit=None) -> list:
    """Union of index-driven branches, each (driver, extra_conditions), in key order without
    duplicates, cut at `limit`. `branch(driver)` gives (select, key columns) of the driver's
    index range; each branch reads at most `limit` rows past `after` from it."""
    rows, names = [], None
    for start in range(0, len(branches), BRANCHES_PER_STATEMENT):
        check_deadline()
        queries = []
        for driver, extra in branches[start:start + BRANCHES_PER_STATEMENT]:
            query, key = branch(driver)
            names = tuple(column.name for column in _columns(key))
            queries.append(keyset(query.where(*conditions, *extra), key, after, limit))
        statement = queries[0] if len(queries) == 1 else union_all(*(select(q.subquery()) for q in queries))
        rows.extend(conn.execute(statement).mappings().all())
    if names is None:
        return []
    rows.sort(key=row_key(names))
    return merge([rows], names, limit)
