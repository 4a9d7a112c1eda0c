from sqlalchemy import case, delete, insert, literal, select, update

from amishare.store.filters import match_bool, match_int, match_text, match_time, settled_state
from amishare.store import paging
from amishare.store.columns import check_fits
from amishare.store.schema import volumes

c = volumes.c


def _status(now):
    return settled_state(volumes, now)


FILTERS = {
    "attachment.attach-time": lambda v, now: match_time(c.attach_time, v),
    "attachment.delete-on-termination": lambda v, now: match_bool(c.delete_on_termination, v),
    "attachment.device": lambda v, now: match_text(c.device, v),
    "attachment.instance-id": lambda v, now: match_text(c.instance_id, v),
    "attachment.status": lambda v, now: match_text(case((c.instance_id.is_not(None), literal("attached")), else_=literal("")), v),
    "availability-zone": lambda v, now: match_text(c.availability_zone, v),
    "create-time": lambda v, now: match_time(c.created_at, v),
    "encrypted": lambda v, now: match_bool(c.encrypted, v),
    "multi-attach-enabled": lambda v, now: match_bool(c.multi_attach, v),
    "size": lambda v, now: match_int(c.size, v),
    "snapshot-id": lambda v, now: match_text(c.snapshot_id, v),
    "status": lambda v, now: match_text(_status(now), v),
    "volume-id": lambda v, now: match_text(c.volume_id, v),
    "volume-type": lambda v, now: match_text(c.volume_type, v),
}


def get(conn, volume_id):
    return conn.execute(select(volumes).where(c.volume_id == volume_id)).mappings().first()


def branch(region, driver):
    """The index range of one DescribeVolumes branch (see store.paging), and its key."""
    return paging.driven(volumes, c.volume_id, region, driver)


def attached_to(conn, instance_ids) -> dict[str, list]:
    out: dict[str, list] = {i: [] for i in instance_ids}
    if instance_ids:
        query = select(volumes).where(c.instance_id.in_(list(instance_ids))).order_by(c.instance_id, c.device)
        for row in conn.execute(query).mappings():
            out[row["instance_id"]].append(row)
    return out


def insert_volume(conn, **values) -> None:
    check_fits(volumes, values)
    conn.execute(insert(volumes).values(**values))


def update_volume(conn, volume_id, **values) -> None:
    check_fits(volumes, values)
    conn.execute(update(volumes).where(c.volume_id == volume_id).values(**values))


def delete_volume(conn, volume_id) -> None:
    conn.execute(delete(volumes).where(c.volume_id == volume_id))
