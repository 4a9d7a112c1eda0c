from sqlalchemy import insert, select

from amishare.store import paging
from amishare.store.columns import check_fits
from amishare.store.schema import image_usage_entries as entries
from amishare.store.schema import image_usage_reports as reports


def insert_report(conn, row, entry_rows) -> None:
    check_fits(reports, row)
    conn.execute(insert(reports).values(**row))
    if entry_rows:
        conn.execute(insert(entries), entry_rows)


def report_by_token(conn, owner_id, region, token):
    query = select(reports).where(reports.c.owner_id == owner_id, reports.c.region == region,
                                  reports.c.client_token == token)
    return conn.execute(query).mappings().first()


def selected(image_ids, report_ids) -> list:
    """Conditions on reports: of one of these images, one of these reports (each when given)."""
    conditions = []
    if image_ids:
        conditions.append(reports.c.image_id.in_(list(image_ids)))
    if report_ids:
        conditions.append(reports.c.report_id.in_(list(report_ids)))
    return conditions


def report_branch(region, driver):
    """The owner's reports (see store.paging), by report id."""
    return paging.driven(reports, reports.c.report_id, region, driver)


def entry_branch(region, driver):
    """The entries of the owner's reports, with their report's image and time: the owner's reports
    in id order (its index), each report's entries in the order of their primary key."""
    kind, owner_id = driver
    if kind != "owner":
        raise ValueError(f"no index range {kind!r} on image usage entries")
    query = (
        select(entries, reports.c.image_id, reports.c.created_at)
        .join(reports, reports.c.report_id == entries.c.report_id)
        .where(reports.c.owner_id == owner_id, reports.c.region == region)
    )
    return query, (reports.c.report_id, entries.c.resource_type, entries.c.account_id)
