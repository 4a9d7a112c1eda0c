from sqlalchemy import case, delete, insert, literal, select, update

from amishare.store.filters import boolean, integer, match_text, state, text, timestamp
from amishare.store import paging
from amishare.store.columns import check_fits
from amishare.store.schema import volumes

c = volumes.c


FILTERS = {
    "attachment.attach-time": timestamp(c.attach_time),
    "attachment.delete-on-termination": boolean(c.delete_on_termination),
    "attachment.device": text(c.device),
    "attachment.instance-id": text(c.instance_id),
    "attachment.status": lambda v, now: match_text(case((c.instance_id.is_not(None), literal("attached")), else_=literal("")), v),
    "availability-zone": text(c.availability_zone),
    "create-time": timestamp(c.created_at),
    "encrypted": boolean(c.encrypted),
    "multi-attach-enabled": boolean(c.multi_attach),
    "size": integer(c.size),
    "snapshot-id": text(c.snapshot_id),
    "status": state(volumes),
    "volume-id": text(c.volume_id),
    "volume-type": text(c.volume_type),
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
