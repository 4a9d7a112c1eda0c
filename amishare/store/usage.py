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


def list_reports(conn, owner_id, region, image_ids, report_ids, after, limit):
    query = select(reports).where(reports.c.owner_id == owner_id, reports.c.region == region)
    if image_ids:
        query = query.where(reports.c.image_id.in_(list(image_ids)))
    if report_ids:
        query = query.where(reports.c.report_id.in_(list(report_ids)))
    return paging.page(conn, query, reports.c.report_id, after, limit)


def entries_of(conn, report_ids) -> list:
    if not report_ids:
        return []
    query = select(entries).where(entries.c.report_id.in_(list(report_ids))).order_by(
        entries.c.report_id, entries.c.resource_type, entries.c.account_id)
    return conn.execute(query).mappings().all()
