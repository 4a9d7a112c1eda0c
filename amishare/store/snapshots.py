from sqlalchemy import bindparam, case, delete, exists, false, insert, literal, select, true, update

from amishare.store.filters import boolean, integer, match_text, owner_alias, settled_state, state, text, timestamp
from amishare.store import paging
from amishare.store.columns import check_fits
from amishare.store.schema import snapshot_volume_permissions as perms
from amishare.store.schema import snapshots

c = snapshots.c

FILTERS = {
    "description": text(c.description),
    "encrypted": boolean(c.encrypted),
    "owner-alias": owner_alias(c.owner_id),
    "owner-id": text(c.owner_id),
    "progress": lambda v, now: match_text(
        case((settled_state(snapshots, now) == "completed", literal("100%")), else_=literal("0%")), v
    ),
    "snapshot-id": text(c.snapshot_id),
    "start-time": timestamp(c.start_time),
    "status": state(snapshots),
    "storage-tier": text(literal("standard")),
    "volume-id": text(c.volume_id),
    "volume-size": integer(c.volume_size),
}


def readable_by(account_id):
    grant = perms.alias("grant_check")
    granted = exists(select(literal(1)).where(grant.c.snapshot_id == c.snapshot_id, grant.c.grantee == account_id))
    return (c.owner_id == account_id) | (c.is_public == true()) | granted


def restorable_by(account_ids):
    if not account_ids:
        return false()
    grant = perms.alias("restorable_check")
    return exists(select(literal(1)).where(grant.c.snapshot_id == c.snapshot_id, grant.c.grantee.in_(list(account_ids))))


def branch(region, driver):
    """The index range of one DescribeSnapshots branch (see store.paging), and its key."""
    kind, value = driver
    if kind == "grant":
        query = select(snapshots).join(perms, perms.c.snapshot_id == c.snapshot_id).where(
            perms.c.grantee == value, perms.c.region == region
        )
        return query, perms.c.snapshot_id  # the grantee index's order
    return paging.driven(snapshots, c.snapshot_id, region, driver)


def get(conn, snapshot_id):
    return conn.execute(select(snapshots).where(c.snapshot_id == snapshot_id)).mappings().first()


_MANY = select(snapshots).where(c.snapshot_id.in_(bindparam("ids", expanding=True)))


def get_many(conn, snapshot_ids) -> dict:
    if not snapshot_ids:
        return {}
    rows = conn.execute(_MANY, {"ids": list(snapshot_ids)}).mappings().all()
    return {r["snapshot_id"]: r for r in rows}


def insert_snapshot(conn, **values) -> None:
    check_fits(snapshots, values)
    conn.execute(insert(snapshots).values(**values))


def update_snapshot(conn, snapshot_id, **values) -> None:
    check_fits(snapshots, values)
    conn.execute(update(snapshots).where(c.snapshot_id == snapshot_id).values(**values))


def delete_snapshot(conn, snapshot_id) -> None:
    conn.execute(delete(perms).where(perms.c.snapshot_id == snapshot_id))
    conn.execute(delete(snapshots).where(c.snapshot_id == snapshot_id))


def is_granted(conn, snapshot_id, account_id) -> bool:
    query = select(literal(1)).where(perms.c.snapshot_id == snapshot_id, perms.c.grantee == account_id)
    return conn.execute(query).first() is not None


def permissions(conn, snapshot_id) -> list[str]:
    return [r[0] for r in conn.execute(select(perms.c.grantee).where(perms.c.snapshot_id == snapshot_id).order_by(perms.c.grantee))]


def add_permissions(conn, snapshot_id, region, account_ids) -> None:
    existing = set(permissions(conn, snapshot_id))
    new = [a for a in dict.fromkeys(account_ids) if a not in existing]
    if new:
        conn.execute(insert(perms), [dict(snapshot_id=snapshot_id, region=region, grantee=a) for a in new])


def remove_permissions(conn, snapshot_id, account_ids) -> None:
    if account_ids:
        conn.execute(delete(perms).where(perms.c.snapshot_id == snapshot_id, perms.c.grantee.in_(list(account_ids))))


def clear_permissions(conn, snapshot_id) -> None:
    conn.execute(delete(perms).where(perms.c.snapshot_id == snapshot_id))


def hide_public(conn, owner_id, region) -> None:
    """Block-all-sharing: the owner's public snapshots in the Region stop being public, and
    remember that they were (through the owner index)."""
    conn.execute(update(snapshots).where(c.region == region, c.owner_id == owner_id, c.is_public == true())
                 .values(is_public=False, public_blocked=True))


def restore_public(conn, owner_id, region) -> None:
    conn.execute(update(snapshots).where(c.region == region, c.owner_id == owner_id, c.public_blocked == true())
                 .values(is_public=True, public_blocked=None))


def hide_public_in(conn, owner_id, regions) -> None:
    """hide_public in several Regions at once (through the owner index)."""
    if regions:
        conn.execute(update(snapshots).where(c.region.in_(list(regions)), c.owner_id == owner_id, c.is_public == true())
                     .values(is_public=False, public_blocked=True))


def restore_public_in(conn, owner_id, regions) -> None:
    if regions:
        conn.execute(update(snapshots).where(c.region.in_(list(regions)), c.owner_id == owner_id,
                                             c.public_blocked == true())
                     .values(is_public=True, public_blocked=None))
