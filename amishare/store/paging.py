"""Keyset pagination: resume after the last key returned, read at most `limit` rows."""


def keyset(query, column, after=None, limit=None):
    if after:
        query = query.where(column > after)
    query = query.order_by(column)
    if limit is not None:
        query = query.limit(limit)
    return query


def page(conn, query, column, after=None, limit=None):
    return conn.execute(keyset(query, column, after, limit)).mappings().all()


def merge(streams, key: str, limit=None) -> list:
    """Union of row lists each sorted by `key`, without duplicates, cut at `limit`."""
    import heapq

    merged, seen = [], set()
    for row in heapq.merge(*streams, key=lambda r: r[key]):
        if row[key] in seen:
            continue
        seen.add(row[key])
        merged.append(row)
        if limit is not None and len(merged) >= limit:
            break
    return merged
