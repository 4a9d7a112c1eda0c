"""Image usage reports: which accounts run instances from an image the caller owns.

Instances launched from a shared or public image belong to, and are counted
for, the account that launched them.
"""

import json
import secrets

from amishare.domain import access, ids, pagination, tags
from amishare.errors import AwsError
from amishare.store import instances as instance_store
from amishare.store import usage as store

RESOURCE_TYPES = ("ec2:Instance", "ec2:LaunchTemplate")
RETENTION = 30 * 86400


def create_report(ctx, image_id, resource_types, account_ids, client_token, tag_specifications) -> str:
    image = access.find_owned(ctx, image_id)
    if client_token:
        existing = store.report_by_token(ctx.conn, ctx.account_id, ctx.region, client_token)
        if existing is not None:
            return existing["report_id"]
    kinds = [r.get("ResourceType") for r in resource_types]
    for kind in kinds:
        if kind not in RESOURCE_TYPES:
            raise AwsError("InvalidParameterValue", f"Invalid resource type '{kind}'. Valid values: {', '.join(RESOURCE_TYPES)}")
    for account in account_ids or ():
        if not ids.is_account_id(account):
            raise AwsError("InvalidParameterValue", f"Invalid account id: {account}")
    requested = tags.from_specifications(tag_specifications, {"image-usage-report"})
    report_id = "amiur-" + secrets.token_hex(9)[:17]
    counts = instance_store.running_count_by_account(ctx.conn, image["image_id"], ctx.region, ctx.now, account_ids)
    entries = []
    if "ec2:Instance" in kinds:
        entries = [dict(report_id=report_id, resource_type="ec2:Instance", account_id=a, usage_count=n)
                   for a, n in sorted(counts.items())]
    store.insert_report(ctx.conn, dict(
        report_id=report_id, image_id=image["image_id"], owner_id=ctx.account_id, region=ctx.region,
        resource_types=json.dumps([{"ResourceType": k} for k in kinds]),
        account_ids=json.dumps(account_ids) if account_ids else None, created_at=ctx.now,
        expires_at=ctx.now + RETENTION, client_token=client_token,
    ), entries)
    if requested.get("image-usage-report"):
        tags.apply(ctx, report_id, "image-usage-report", ctx.account_id, requested["image-usage-report"])
    return report_id


def _report_shape(row, report_tags) -> dict:
    return {
        "ImageId": row["image_id"], "ReportId": row["report_id"],
        "ResourceTypes": json.loads(row["resource_types"]),
        "AccountIds": json.loads(row["account_ids"]) if row["account_ids"] else None,
        "State": "available", "CreationTime": row["created_at"], "ExpirationTime": row["expires_at"],
        "Tags": report_tags or None,
    }


def describe_reports(ctx, image_ids, report_ids, max_results, next_token):
    from amishare.store import tags as tag_store

    limit = pagination.check_max_results(max_results, 1, 1000)
    fp = pagination.fingerprint("usage-reports", image_ids, report_ids)
    rows = store.list_reports(ctx.conn, ctx.account_id, ctx.region, image_ids, report_ids,
                              pagination.decode(next_token, fp), None if limit is None else limit + 1)
    rows, token = pagination.page(rows, limit, "report_id", fp)
    report_tags = tag_store.for_resources(ctx.conn, ctx.account_id, [r["report_id"] for r in rows])
    return [_report_shape(r, report_tags[r["report_id"]]) for r in rows], token


def describe_entries(ctx, image_ids, report_ids, max_results, next_token):
    limit = pagination.check_max_results(max_results, 1, 10000)
    reports = store.list_reports(ctx.conn, ctx.account_id, ctx.region, image_ids, report_ids, None, None)
    by_id = {r["report_id"]: r for r in reports}
    out = [{
        "ResourceType": e["resource_type"], "ReportId": e["report_id"], "UsageCount": e["usage_count"],
        "AccountId": e["account_id"], "ImageId": by_id[e["report_id"]]["image_id"],
        "ReportCreationTime": by_id[e["report_id"]]["created_at"],
    } for e in store.entries_of(ctx.conn, list(by_id))]
    fp = pagination.fingerprint("usage-entries", image_ids, report_ids)
    start = pagination.decode(next_token, fp, _offset) or 0
    if limit is None:
        return out[start:], None
    page = out[start:start + limit]
    token = pagination.encode(str(start + limit), fp) if start + limit < len(out) else None
    return page, token


def _offset(text: str) -> int:
    offset = int(text)
    if offset < 0:
        raise ValueError(text)
    return offset
