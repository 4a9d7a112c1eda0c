"""Image usage reports: which accounts run instances from an image the caller owns.

Instances launched from a shared or public image belong to, and are counted
for, the account that launched them.
"""

import json
import secrets

from amishare.domain import access, ids, tags
from amishare.domain.listing import Listing
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


REPORTS = Listing("usage-reports", key="report_id", max_results=(1, 1000), branch=store.report_branch)
ENTRIES = Listing("usage-entries", key=("report_id", "resource_type", "account_id"), max_results=(1, 10000),
                  branch=store.entry_branch)


def describe_reports(ctx, image_ids, report_ids, max_results, next_token):
    from amishare.store import tags as tag_store

    query = REPORTS.request(ctx, max_results=max_results, next_token=next_token, criteria=(image_ids, report_ids))
    rows, token = query.run([(("owner", ctx.account_id), store.selected(image_ids, report_ids))])
    report_tags = tag_store.for_resources(ctx.conn, ctx.account_id, [r["report_id"] for r in rows])
    return [_report_shape(r, report_tags[r["report_id"]]) for r in rows], token


def describe_entries(ctx, image_ids, report_ids, max_results, next_token):
    query = ENTRIES.request(ctx, max_results=max_results, next_token=next_token, criteria=(image_ids, report_ids))
    rows, token = query.run([(("owner", ctx.account_id), store.selected(image_ids, report_ids))])
    return [{
        "ResourceType": e["resource_type"], "ReportId": e["report_id"], "UsageCount": e["usage_count"],
        "AccountId": e["account_id"], "ImageId": e["image_id"], "ReportCreationTime": e["created_at"],
    } for e in rows], token
