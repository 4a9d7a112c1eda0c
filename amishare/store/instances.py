from sqlalchemy import exists, false, insert, literal, select, true, update

from amishare.store.filters import match_text, owner_alias_condition, settled_state, state, text, timestamp
from amishare.store import paging
from amishare.store.columns import check_fits
from amishare.store.schema import images, instances

c = instances.c

FILTERS = {
    "instance-id": text(c.instance_id),
    "instance-state-name": state(instances),
    "image-id": text(c.image_id),
    "instance-type": text(c.instance_type),
    "availability-zone": text(c.availability_zone),
    "reservation-id": text(c.reservation_id),
    "owner-id": text(c.owner_id),
    "key-name": text(c.key_name),
    "launch-time": timestamp(c.launch_time),
    "architecture": text(c.architecture),
    "private-ip-address": text(c.private_ip),
    "root-device-type": text(c.root_device_type),
    "platform": text(c.platform),
}


def get(conn, instance_id):
    return conn.execute(select(instances).where(c.instance_id == instance_id)).mappings().first()


def branch(region, driver):
    """The index range of one DescribeInstances branch (see store.paging), and its key."""
    return paging.driven(instances, c.instance_id, region, driver)


def insert_instances(conn, rows) -> None:
    check_fits(instances, *rows)
    conn.execute(insert(instances), rows)


def update_instance(conn, instance_id, **values) -> None:
    check_fits(instances, values)
    conn.execute(update(instances).where(c.instance_id == instance_id).values(**values))


def by_client_token(conn, owner_id, region, token):
    query = select(instances).where(c.owner_id == owner_id, c.region == region, c.client_token == token)
    return conn.execute(query.order_by(c.ami_launch_index)).mappings().all()


def by_reservation(conn, reservation_id):
    query = select(instances).where(c.reservation_id == reservation_id).order_by(c.ami_launch_index)
    return conn.execute(query).mappings().all()


def running_count_by_account(conn, image_id, region, now, account_ids=None) -> dict[str, int]:
    """Instances (not terminated) launched from an image, per launching account: one index range."""
    from sqlalchemy import func

    state = settled_state(instances, now)
    query = (
        select(c.owner_id, func.count())
        .where(c.image_id == image_id, c.region == region, state.not_in(["terminated", "shutting-down"]))
        .group_by(c.owner_id)
    )
    if account_ids:
        query = query.where(c.owner_id.in_(list(account_ids)))
    return {owner: count for owner, count in conn.execute(query)}


def referencing(conn, region, owner_id, image_ids, states, now, after=None, limit=None):
    """The owner's instances launched from these images, by (image, instance): the owner's image index."""
    from sqlalchemy import and_, or_

    query = select(c.image_id, c.instance_id).where(c.region == region, c.owner_id == owner_id,
                                                    c.image_id.in_(list(image_ids)))
    if states is not None:
        query = query.where(settled_state(instances, now).in_(list(states)))
    if after is not None:
        image_id, instance_id = after
        query = query.where(or_(c.image_id > image_id, and_(c.image_id == image_id, c.instance_id > instance_id)))
    query = query.order_by(c.image_id, c.instance_id)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).all()


# --- DescribeInstanceImageMetadata: the instance filters it takes, and those on the image an
# instance was launched from (a correlated read of the image by its primary key).


def on_image(condition):
    """A condition on the instance's image, as a condition on the instance."""
    return exists(select(literal(1)).where(images.c.image_id == c.image_id, condition))


def _image_owner_alias(values, now):
    return on_image(owner_alias_condition(images.c.owner_id, values))


def _image_owner_id(values, now):
    return on_image(match_text(images.c.owner_id, values))


def image_allowed(allowed):
    """image-allowed: `allowed` is the Allowed AMIs condition on images, None while they are off (all allowed)."""
    return on_image(allowed) if allowed is not None else true()


def in_zones(zones):
    return c.availability_zone.in_(list(zones)) if zones else false()


IMAGE_METADATA_FILTERS = {
    "availability-zone": text(c.availability_zone),
    "instance-id": text(c.instance_id),
    "instance-state-name": state(instances),
    "instance-type": text(c.instance_type),
    "launch-time": timestamp(c.launch_time),
    "owner-alias": _image_owner_alias,
    "owner-id": _image_owner_id,
}
