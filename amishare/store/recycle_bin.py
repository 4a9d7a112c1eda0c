"""SQL for Recycle Bin retention rules and recycled images."""

from sqlalchemy import delete, insert, select, update

from amishare.store.columns import check_fits
from amishare.store.schema import recycle_bin_rules as rules
from amishare.store.schema import recycled_images as recycled


def insert_rule(conn, **values) -> None:
    check_fits(rules, values)
    conn.execute(insert(rules).values(**values))


def get_rule(conn, account_id, region, rule_id):
    query = select(rules).where(rules.c.rule_id == rule_id, rules.c.account_id == account_id,
                                rules.c.region == region)
    return conn.execute(query).mappings().first()


def update_rule(conn, rule_id, **values) -> None:
    check_fits(rules, values)
    conn.execute(update(rules).where(rules.c.rule_id == rule_id).values(**values))


def delete_rule(conn, rule_id) -> None:
    conn.execute(delete(rules).where(rules.c.rule_id == rule_id))


def list_rules(conn, account_id, region, resource_type, after=None):
    """The account's rules for a resource type in the Region, by id (its rule index)."""
    query = select(rules).where(rules.c.account_id == account_id, rules.c.region == region,
                                rules.c.resource_type == resource_type)
    if after is not None:
        query = query.where(rules.c.rule_id > after)
    return conn.execute(query.order_by(rules.c.rule_id)).mappings().all()


def insert_recycled(conn, **values) -> None:
    check_fits(recycled, values)
    conn.execute(insert(recycled).values(**values))


def expire(conn, account_id, region, now) -> None:
    """Recycled images whose retention is over are gone (settled when read, through the account index)."""
    conn.execute(delete(recycled).where(recycled.c.account_id == account_id, recycled.c.region == region,
                                        recycled.c.exit_at <= now))


def list_recycled(conn, account_id, region, image_ids=None, after=None, limit=None):
    query = select(recycled).where(recycled.c.account_id == account_id, recycled.c.region == region)
    if image_ids:
        query = query.where(recycled.c.image_id.in_(list(image_ids)))
    if after is not None:
        query = query.where(recycled.c.image_id > after)
    query = query.order_by(recycled.c.image_id)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).mappings().all()


def get_recycled(conn, image_id):
    return conn.execute(select(recycled).where(recycled.c.image_id == image_id)).mappings().first()


def delete_recycled(conn, image_id) -> None:
    conn.execute(delete(recycled).where(recycled.c.image_id == image_id))
