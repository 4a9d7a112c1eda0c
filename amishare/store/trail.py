"""SQL for the audit trail: writing events in batches, reading them newest first a page at a
time along one index, and dropping those past their retention, the oldest first."""

from sqlalchemy import and_, delete, or_, select

from amishare.store.prepared import Insert

from amishare.store.schema import trail_events as events
from amishare.store.schema import trail_resources as resources

# LookupEvents' attribute -> the column of trail_events whose index it walks.
EVENT_COLUMNS = {
    "EventName": events.c.event_name,
    "EventSource": events.c.event_source,
    "ReadOnly": events.c.read_only,
    "Username": events.c.username,
    "AccessKeyId": events.c.access_key_id,
}
RESOURCE_COLUMNS = {"ResourceName": resources.c.resource_name, "ResourceType": resources.c.resource_type}


_BOUNDED = {table: [(name, table.c[name].type.length) for name in table.c.keys()
                    if getattr(table.c[name].type, "length", None)] for table in (events, resources)}


def _cut(table, rows: list[dict]) -> list[dict]:
    """Every string cut to its column's length (a trail record must be written whatever a caller
    sent), so the statement needs no further check."""
    bounded = _BOUNDED[table]
    for row in rows:
        for name, length in bounded:
            value = row.get(name)
            if value is not None and len(value) > length:
                row[name] = value[:length]
    return rows


_INSERT_EVENTS = Insert(events, list(events.c.keys()))
_INSERT_RESOURCES = Insert(resources, list(resources.c.keys()))


def write(conn, event_rows: list[dict], resource_rows: list[dict]) -> None:
    """Insert a batch of events and the resources they name, one precompiled `executemany` each
    (values cut to size here, so the statements need no other check)."""
    _INSERT_EVENTS.many(conn, _cut(events, event_rows))
    _INSERT_RESOURCES.many(conn, _cut(resources, resource_rows))


def _newest_first(table, query, start: float, end: float | None, after: tuple[float, str] | None, limit: int):
    time, event_id = table.c.event_time, table.c.event_id
    query = query.where(time >= start)
    if end is not None:
        query = query.where(time <= end)
    if after is not None:
        query = query.where(or_(time < after[0], and_(time == after[0], event_id < after[1])))
    return query.order_by(time.desc(), event_id.desc()).limit(limit)


def lookup(conn, account_id: str, region: str, attribute: tuple[str, object] | None, start: float,
           end: float | None, after: tuple[float, str] | None, limit: int) -> list[dict]:
    """Up to `limit` events of the account and Region, newest first, after the key `after`
    ((event_time, event_id)), in [start, end], matching one lookup attribute (key, value)."""
    key, value = attribute if attribute else (None, None)
    if key in RESOURCE_COLUMNS:
        ids = conn.execute(_newest_first(resources, select(resources.c.event_id).where(
            resources.c.account_id == account_id, resources.c.region == region, RESOURCE_COLUMNS[key] == value),
            start, end, after, limit)).scalars().all()
        if not ids:
            return []
        rows = conn.execute(select(events).where(events.c.event_id.in_(ids))).mappings().all()
        return sorted(rows, key=lambda r: (r["event_time"], r["event_id"]), reverse=True)
    query = select(events).where(events.c.account_id == account_id, events.c.region == region)
    if key == "EventId":
        query = query.where(events.c.event_id == value)
    elif key is not None:
        query = query.where(EVENT_COLUMNS[key] == value)
    return conn.execute(_newest_first(events, query, start, end, after, limit)).mappings().all()


def resources_of(conn, event_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The resources each of these events names (their primary key's range)."""
    found: dict[str, list[tuple[str, str]]] = {}
    if event_ids:
        query = select(resources.c.event_id, resources.c.resource_type, resources.c.resource_name).where(
            resources.c.event_id.in_(event_ids)).order_by(resources.c.event_id, resources.c.resource_type,
                                                          resources.c.resource_name)
        for event_id, kind, name in conn.execute(query).all():
            found.setdefault(event_id, []).append((kind, name))
    return found


def purge(conn, before: float, limit: int) -> int:
    """Delete up to `limit` of the oldest events (and resource entries) older than `before`,
    along the time indexes; the number of events deleted."""
    old = select(events.c.event_id).where(events.c.event_time < before).order_by(events.c.event_time).limit(limit)
    ids = conn.execute(old).scalars().all()
    if ids:
        conn.execute(delete(events).where(events.c.event_id.in_(ids)))
    old_resources = select(resources.c.event_id).where(resources.c.event_time < before).order_by(
        resources.c.event_time).limit(limit)
    resource_ids = set(conn.execute(old_resources).scalars().all())
    if resource_ids:
        conn.execute(delete(resources).where(resources.c.event_id.in_(resource_ids)))
    return len(ids)
