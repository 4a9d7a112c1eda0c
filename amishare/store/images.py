"""SQL for images, their block devices, product codes and launch permissions."""

from sqlalchemy import and_, bindparam, case, delete, exists, false, func, insert, literal, null, or_, select, true, update

from amishare.store.filters import (
    boolean,
    match_bool,
    match_condition,
    match_int,
    match_text,
    owner_alias,
    settled_state,
    state,
    text,
    timestamp,
)
from amishare.store import paging
from amishare.store.columns import check_fits
from amishare.store.prepared import Query
from amishare.store.schema import (
    image_block_devices as bdm,
    image_launch_permissions as lp,
    image_product_codes as pc,
    images,
)

c = images.c


def _bdm_exists(condition):
    return exists(select(literal(1)).where(bdm.c.image_id == c.image_id, condition))


# The reason EC2 gives for an image in the failed state (the only state with a reason).
FAILED_STATE_REASON = {"Code": "Client.InvalidSnapshot", "Message": "Failed"}


def _state_reason(key):
    def condition(values, now):
        reason = case((settled_state(images, now) == "failed", literal(FAILED_STATE_REASON[key])), else_=null())
        return match_text(reason, values)
    return condition


FILTERS = {
    "architecture": text(c.architecture),
    "block-device-mapping.delete-on-termination": lambda v, now: _bdm_exists(match_bool(bdm.c.delete_on_termination, v)),
    "block-device-mapping.device-name": lambda v, now: _bdm_exists(match_text(bdm.c.device_name, v)),
    "block-device-mapping.snapshot-id": lambda v, now: _bdm_exists(match_text(bdm.c.snapshot_id, v)),
    "block-device-mapping.volume-size": lambda v, now: _bdm_exists(match_int(bdm.c.volume_size, v)),
    "block-device-mapping.volume-type": lambda v, now: _bdm_exists(match_text(bdm.c.volume_type, v)),
    "block-device-mapping.encrypted": lambda v, now: _bdm_exists(match_bool(bdm.c.encrypted, v)),
    "creation-date": timestamp(c.created_at),
    "deprecation-time": timestamp(c.deprecation_time),
    "description": text(c.description),
    "ena-support": boolean(c.ena_support),
    "hypervisor": text(literal("xen")),
    "image-id": text(c.image_id),
    "image-type": text(c.image_type),
    "is-public": boolean(c.is_public),
    "kernel-id": text(c.kernel_id),
    "manifest-location": text(c.image_location),
    "name": text(c.name),
    "owner-alias": owner_alias(c.owner_id),
    "owner-id": text(c.owner_id),
    "platform": text(c.platform),
    "platform-details": text(c.platform_details),
    "product-code": lambda v, now: exists(select(literal(1)).where(pc.c.image_id == c.image_id, match_text(pc.c.product_code, v))),
    "product-code.type": lambda v, now: exists(select(literal(1)).where(pc.c.image_id == c.image_id, match_text(pc.c.product_code_type, v))),
    "ramdisk-id": text(c.ramdisk_id),
    "root-device-name": text(c.root_device_name),
    "root-device-type": text(c.root_device_type),
    "source-image-id": text(c.source_image_id),
    "source-image-region": text(c.source_image_region),
    "source-instance-id": text(c.source_instance_id),
    "sriov-net-support": text(c.sriov_net_support),
    "state": state(images),
    "usage-operation": text(c.usage_operation),
    "virtualization-type": text(c.virtualization_type),
    "boot-mode": text(c.boot_mode),
    "imds-support": text(c.imds_support),
    # Allowed AMIs is not configured for any account, so every image is allowed.
    "image-allowed": lambda v, now: match_condition(true(), v),
    "state-reason-code": _state_reason("Code"),
    "state-reason-message": _state_reason("Message"),
}


# --- access conditions: the domain describes who may see what; these render it.


def owned_by(account_ids):
    return c.owner_id.in_(list(account_ids))


def public():
    return c.is_public == true()


def named(owner_id, names):
    """The owner's images with one of these names (its owner index, then the name)."""
    return and_(c.owner_id == owner_id, c.name.in_(list(names))) if names else false()


def granted_to(grantees):
    """grantees: (grantee_type, grantee) pairs; any one of them matching grants."""
    if not grantees:
        return false()
    grant = lp.alias("grant_check")  # distinct from the lp a grant branch joins
    matches = [and_(grant.c.grantee_type == t, grant.c.grantee == g) for t, g in grantees]
    return exists(select(literal(1)).where(grant.c.image_id == c.image_id, or_(*matches)))


def granted_to_accounts(account_ids):
    """Shared with any of these accounts (one IN list, however many)."""
    grant = lp.alias("grant_check")
    return exists(select(literal(1)).where(grant.c.image_id == c.image_id, grant.c.grantee_type == "account",
                                           grant.c.grantee.in_(list(account_ids))))


def not_disabled():
    return c.disabled == false()


def not_deprecated(account_id, now):
    """Deprecated images are hidden from other accounts' listings; their owner always sees them."""
    return or_(c.owner_id == account_id, c.deprecation_time.is_(None), c.deprecation_time > now)


def branch(region, driver):
    """The index range of one DescribeImages branch (see store.paging), and its key."""
    kind, value = driver
    if kind == "grant":
        grantee_type, grantee = value
        query = (
            select(images)
            .join(lp, lp.c.image_id == c.image_id)
            .where(lp.c.grantee_type == grantee_type, lp.c.grantee == grantee, lp.c.region == region)
        )
        return query, lp.c.image_id
    if kind == "owner_public":
        return select(images).where(c.region == region, c.owner_id == value, c.is_public == true()), c.image_id
    if kind == "owners_public":
        return select(images).where(c.region == region, c.owner_id.in_(list(value)), c.is_public == true()), c.image_id
    return paging.driven(images, c.image_id, region, driver)


def select_branches(conn, region, branches, conditions, after=None, limit=None):
    """Union of index-driven branches, each (driver, extra_conditions), ordered by image id."""
    return paging.select_branches(conn, lambda driver: branch(region, driver), branches, conditions, after, limit)


_BY_IDS = select(images).where(c.image_id.in_(bindparam("ids", expanding=True)), c.region == bindparam("region")).order_by(c.image_id)
_BLOCK_DEVICES = Query(select(bdm).where(bdm.c.image_id.in_(bindparam("ids", expanding=True)))
                       .order_by(bdm.c.image_id, bdm.c.position))
_PRODUCT_CODES = Query(select(pc).where(pc.c.image_id.in_(bindparam("ids", expanding=True))))
_GRANTED = select(lp.c.grantee_type, lp.c.grantee).where(
    lp.c.image_id == bindparam("image_id"), lp.c.grantee_type == bindparam("grantee_type"),
    lp.c.grantee.in_(bindparam("grantees", expanding=True)))


def get_many_in_region(conn, region, image_ids):
    return conn.execute(_BY_IDS, {"ids": list(image_ids), "region": region}).mappings().all()


_WITH_GRANT: dict[tuple, Query] = {}


def get_many_with_grant(conn, region, image_ids, grantees) -> list[dict]:
    """The images by id, each with `granted`: whether one of `grantees` ((grantee_type, grantee)
    pairs) holds a launch permission on it. One statement: the primary key, and for each row
    the grant's primary key."""
    by_type: dict[str, list] = {}
    for grantee_type, grantee in grantees:
        by_type.setdefault(grantee_type, []).append(grantee)
    types = tuple(by_type)
    query = _WITH_GRANT.get(types)
    if query is None:
        grant = lp.alias("grant_check")
        matches = [and_(grant.c.grantee_type == t, grant.c.grantee.in_(bindparam(f"grantees_{i}", expanding=True)))
                   for i, t in enumerate(types)]
        granted = exists(select(literal(1)).where(grant.c.image_id == c.image_id, or_(*matches))) if matches else false()
        query = _WITH_GRANT[types] = Query(
            select(images, granted.label("granted"))
            .where(c.image_id.in_(bindparam("ids", expanding=True)), c.region == bindparam("region"))
            .order_by(c.image_id))
    values = {f"grantees_{i}": by_type[t] for i, t in enumerate(types)}
    return query.rows(conn, ids=list(image_ids), region=region, **values)


def get(conn, image_id):
    return conn.execute(select(images).where(c.image_id == image_id)).mappings().first()


def lock(conn, image_id) -> None:
    """Serialize concurrent changes to one image's permissions on PostgreSQL (SQLite
    writers are already serialized by BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(c.image_id).where(c.image_id == image_id).with_for_update())


def get_in_region(conn, region, image_id):
    return conn.execute(select(images).where(c.image_id == image_id, c.region == region)).mappings().first()


def image_named(conn, region, owner_id, name) -> str | None:
    query = select(c.image_id).where(c.region == region, c.owner_id == owner_id, c.name == name)
    return conn.execute(query).scalar()


def count_owned(conn, region, owner_id, public_only=False) -> int:
    query = select(func.count()).select_from(images).where(c.region == region, c.owner_id == owner_id)
    if public_only:
        query = query.where(c.is_public == true())
    return conn.execute(query).scalar_one()


def insert_image(conn, row: dict, block_devices: list[dict], product_codes: list[dict]) -> None:
    check_fits(images, row)
    check_fits(bdm, *block_devices)
    check_fits(pc, *product_codes)
    conn.execute(insert(images).values(**row))
    if block_devices:
        conn.execute(insert(bdm), [dict(bd, image_id=row["image_id"], position=i) for i, bd in enumerate(block_devices)])
    if product_codes:
        conn.execute(insert(pc), [dict(p, image_id=row["image_id"]) for p in product_codes])


def update_image(conn, image_id, **values) -> None:
    check_fits(images, values)
    conn.execute(update(images).where(c.image_id == image_id).values(**values))


def delete_image(conn, image_id) -> None:
    for table in (bdm, pc, lp):
        conn.execute(delete(table).where(table.c.image_id == image_id))
    conn.execute(delete(images).where(c.image_id == image_id))


def block_devices(conn, image_ids) -> dict[str, list]:
    out: dict[str, list] = {i: [] for i in image_ids}
    if image_ids:
        for row in _BLOCK_DEVICES.rows(conn, ids=list(image_ids)):
            out[row["image_id"]].append(row)
    return out


def product_codes(conn, image_ids) -> dict[str, list]:
    out: dict[str, list] = {i: [] for i in image_ids}
    if image_ids:
        for row in _PRODUCT_CODES.rows(conn, ids=list(image_ids)):
            out[row["image_id"]].append(row)
    return out


def image_using_snapshot(conn, snapshot_id, owner_id) -> str | None:
    """An image of `owner_id` whose block devices use the snapshot (the snapshot index, then
    the image's primary key)."""
    query = (
        select(bdm.c.image_id)
        .join(images, images.c.image_id == bdm.c.image_id)
        .where(bdm.c.snapshot_id == snapshot_id, c.owner_id == owner_id)
        .order_by(bdm.c.image_id)
        .limit(1)
    )
    return conn.execute(query).scalar()


# --- launch permissions


def launch_permissions(conn, image_id):
    query = select(lp).where(lp.c.image_id == image_id).order_by(lp.c.created_at, lp.c.grantee_type, lp.c.grantee)
    return conn.execute(query).mappings().all()


def granted_among(conn, image_id, grantees) -> list[tuple[str, str]]:
    """Which of `grantees` the image grants: primary-key probes, one per grantee type."""
    by_type: dict[str, list] = {}
    for grantee_type, grantee in grantees:
        by_type.setdefault(grantee_type, []).append(grantee)
    found = []
    for grantee_type, values in by_type.items():
        params = {"image_id": image_id, "grantee_type": grantee_type, "grantees": values}
        found.extend((row.grantee_type, row.grantee) for row in conn.execute(_GRANTED, params))
    return found


def add_launch_permissions(conn, image_id, region, grantees, now) -> None:
    existing = {(r["grantee_type"], r["grantee"]) for r in launch_permissions(conn, image_id)}
    new = [g for g in dict.fromkeys(grantees) if g not in existing]
    if new:
        conn.execute(
            insert(lp),
            [dict(image_id=image_id, region=region, grantee_type=t, grantee=g, created_at=now) for t, g in new],
        )


def remove_launch_permissions(conn, image_id, grantees) -> None:
    for t, g in grantees:
        conn.execute(delete(lp).where(lp.c.image_id == image_id, lp.c.grantee_type == t, lp.c.grantee == g))


def clear_launch_permissions(conn, image_id) -> None:
    conn.execute(delete(lp).where(lp.c.image_id == image_id))


def count_account_grants(conn, image_id) -> int:
    query = select(func.count()).select_from(lp).where(lp.c.image_id == image_id, lp.c.grantee_type == "account")
    return conn.execute(query).scalar_one()
