"""SQL for importing an inventory in bulk: existing rows read by primary key, a chunk at
a time, and rows written with one statement per table and chunk."""

from sqlalchemy import bindparam, delete, insert, select, update

from amishare.store.columns import check_fits
from amishare.store.schema import (
    image_block_devices,
    image_launch_permissions,
    image_product_codes,
    images,
    snapshots,
    tags,
)


def check_image(row: dict, devices: list[dict], codes: list[dict], tag_rows: list[dict]) -> None:
    check_fits(images, row)
    check_fits(image_block_devices, *devices)
    check_fits(image_product_codes, *codes)
    check_fits(tags, *tag_rows)


def check_snapshot(row: dict, tag_rows: list[dict]) -> None:
    check_fits(snapshots, row)
    check_fits(tags, *tag_rows)


def _by_ids(conn, table, key, columns, ids) -> dict:
    if not ids:
        return {}
    query = select(*[table.c[c] for c in columns]).where(table.c[key].in_(list(ids)))
    return {r[key]: r for r in conn.execute(query).mappings()}


def images_by_ids(conn, image_ids) -> dict:
    return _by_ids(conn, images, "image_id", ("image_id", "owner_id", "region", "name", "is_public", "disabled",
                                              "state"), image_ids)


def image_ids_named(conn, region, owner_id, names) -> dict:
    """name -> image id of the owner's images in the Region with those names."""
    if not names:
        return {}
    c = images.c
    query = select(c.name, c.image_id).where(c.region == region, c.owner_id == owner_id, c.name.in_(list(names)))
    return dict(conn.execute(query).all())


def snapshots_by_ids(conn, snapshot_ids) -> dict:
    return _by_ids(conn, snapshots, "snapshot_id", ("snapshot_id", "owner_id", "region", "is_public"), snapshot_ids)


def _update_many(conn, table, key, rows) -> None:
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    statement = update(table).where(table.c[key] == bindparam("_key")).values(
        {c: bindparam(c) for c in columns})
    conn.execute(statement, [dict(r, _key=r[key]) for r in rows])


def put_images(conn, new_rows, changed_rows, devices, codes) -> None:
    """Insert new images, update changed ones, and replace the block devices and product
    codes of both (`devices` and `codes` carry their image_id)."""
    if new_rows:
        conn.execute(insert(images), new_rows)
    _update_many(conn, images, "image_id", changed_rows)
    changed = [r["image_id"] for r in changed_rows]
    if changed:
        conn.execute(delete(image_block_devices).where(image_block_devices.c.image_id.in_(changed)))
        conn.execute(delete(image_product_codes).where(image_product_codes.c.image_id.in_(changed)))
    if devices:
        conn.execute(insert(image_block_devices), devices)
    if codes:
        conn.execute(insert(image_product_codes), codes)


def put_snapshots(conn, new_rows, changed_rows) -> None:
    if new_rows:
        conn.execute(insert(snapshots), new_rows)
    _update_many(conn, snapshots, "snapshot_id", changed_rows)


def replace_tags(conn, resource_ids, rows) -> None:
    """The tags of these resources become `rows` (tag rows of the tags table)."""
    if resource_ids:
        conn.execute(delete(tags).where(tags.c.resource_id.in_(list(resource_ids))))
    if rows:
        conn.execute(insert(tags), rows)


def replace_launch_permissions(conn, image_id, region, grantees, now) -> None:
    lp = image_launch_permissions
    conn.execute(delete(lp).where(lp.c.image_id == image_id))
    if grantees:
        conn.execute(insert(lp), [dict(image_id=image_id, region=region, grantee_type=t, grantee=g, created_at=now)
                                  for t, g in dict.fromkeys(grantees)])


def set_public(conn, image_id, public: bool) -> None:
    conn.execute(update(images).where(images.c.image_id == image_id).values(is_public=public))
