"""Totals for monitoring, each read cheaply: quota counters (one small table) or a count
over an index, never a scan of a resource table's rows."""

from sqlalchemy import func, select

from amishare.store.schema import accounts, image_launch_permissions, snapshot_volume_permissions, usage_counters


def _counter_total(conn, name: str) -> int:
    t = usage_counters
    return int(conn.execute(select(func.coalesce(func.sum(t.c.value), 0)).where(t.c.name == name)).scalar_one())


def totals(conn) -> dict:
    """accounts (customer accounts), images and public_images (kept by the quota counters),
    launch_permissions by grantee type, snapshot_permissions."""
    lp = image_launch_permissions
    grants = dict(conn.execute(select(lp.c.grantee_type, func.count()).group_by(lp.c.grantee_type)).all())
    return {
        "accounts": conn.execute(select(func.count()).select_from(accounts).where(accounts.c.kind == "customer")).scalar_one(),
        "images": _counter_total(conn, "images"),
        "public_images": _counter_total(conn, "public_images"),
        "launch_permissions": grants,
        "snapshot_permissions": conn.execute(select(func.count()).select_from(snapshot_volume_permissions)).scalar_one(),
    }
