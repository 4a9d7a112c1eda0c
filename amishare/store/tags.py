from sqlalchemy import and_, bindparam, delete, insert, select, update

from amishare.store import paging
from amishare.store.filters import text
from amishare.store.prepared import Query
from amishare.store.schema import tags

c = tags.c

FILTERS = {
    "key": text(c.key),
    "value": text(c.value),
    "resource-id": text(c.resource_id),
    "resource-type": text(c.resource_type),
}


_FOR_RESOURCES = Query(
    select(c.resource_id, c.key, c.value)
    .where(c.resource_id.in_(bindparam("ids", expanding=True)), c.owner_id == bindparam("owner_id"))
    .order_by(c.resource_id, c.key)
)


def for_resources(conn, owner_id, resource_ids) -> dict[str, list]:
    out: dict[str, list] = {r: [] for r in resource_ids}
    if resource_ids:
        for row in _FOR_RESOURCES.rows(conn, ids=list(resource_ids), owner_id=owner_id):
            out[row["resource_id"]].append({"Key": row["key"], "Value": row["value"]})
    return out


def keys_of(conn, resource_id) -> set[str]:
    return {r[0] for r in conn.execute(select(c.key).where(c.resource_id == resource_id))}


def upsert(conn, resource_id, resource_type, owner_id, region, pairs) -> None:
    for key, value in pairs:
        where = and_(c.resource_id == resource_id, c.key == key)
        if conn.execute(update(tags).where(where).values(value=value)).rowcount == 0:
            conn.execute(insert(tags).values(
                resource_id=resource_id, key=key, value=value, owner_id=owner_id, region=region,
                resource_type=resource_type,
            ))


def remove(conn, resource_id, items) -> None:
    """items: (key, value-or-None); a value restricts the deletion to that value."""
    for key, value in items:
        condition = [c.resource_id == resource_id, c.key == key]
        if value is not None:
            condition.append(c.value == value)
        conn.execute(delete(tags).where(*condition))


def remove_all(conn, resource_id) -> None:
    conn.execute(delete(tags).where(c.resource_id == resource_id))


def branch(region, driver):
    """The index range of one DescribeTags branch (see store.paging): the owner's tags, by
    resource and key."""
    return paging.driven(tags, (c.resource_id, c.key), region, driver)
