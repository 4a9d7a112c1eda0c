"""DescribeInstanceImageMetadata: the AMI each of the caller's instances in the Region was
launched from, even when the AMI is deprecated, disabled, deregistered, no longer shared with
the caller or outside its Allowed AMIs criteria: the way EC2 documents to see what
DescribeImages no longer shows. The caller's own instances only, through the instance index;
the images are read by id for the page."""

import dataclasses
from fnmatch import fnmatchcase

from amishare.domain import allowed_images
from amishare.domain.listing import Listing, owned
from amishare.domain.regions import zone_id, zone_names
from amishare.models import commercial_regions
from amishare.store import filters as filter_sql
from amishare.store import images as image_store
from amishare.store import instances as store
from amishare.store import tags as tag_store


def _zone_ids(values, now):
    """zone-id: the instances in the zones whose ids match (`*` and `?` as in every filter)."""
    return store.in_zones([zone for region in commercial_regions() for zone in zone_names(region)
                           if any(fnmatchcase(zone_id(zone), value) for value in values)])


FILTERS = {**store.IMAGE_METADATA_FILTERS, "zone-id": _zone_ids}

METADATA = Listing("instance-image-metadata", key="instance_id", max_results=(1, 1000), branch=store.branch,
                   filters=FILTERS, tag_column=store.c.instance_id, id_prefix="i", ids_param="instanceId")


def _allowed_filter(ctx):
    condition = store.image_allowed(allowed_images.condition(ctx))
    return lambda values, now: filter_sql.match_condition(condition, values)


def describe(ctx, instance_ids, filters, max_results, next_token):
    """(instance rows, {image_id: image row}, {image_id: product codes}, {instance_id: tags}, next token)."""
    listing = dataclasses.replace(METADATA, filters={**FILTERS, "image-allowed": _allowed_filter(ctx)})
    query = listing.request(ctx, ids=instance_ids, filters=filters, max_results=max_results, next_token=next_token,
                            criteria=(ctx.account_id, filters))
    rows, token = query.run(owned(ctx, query.ids))
    image_ids = sorted({r["image_id"] for r in rows})
    found = {r["image_id"]: r for r in image_store.get_many_in_region(ctx.conn, ctx.region, image_ids)}
    codes = image_store.product_codes(ctx.conn, list(found))
    tags = tag_store.for_resources(ctx.conn, ctx.account_id, [r["instance_id"] for r in rows])
    return rows, found, {i: [c["product_code"] for c in codes[i]] for i in found}, tags, token


def image_allowed(ctx, image, codes) -> bool | None:
    """ImageAllowed as DescribeImages answers it: only while Allowed AMIs are on."""
    if allowed_images.settings(ctx)[0] == allowed_images.DISABLED:
        return None
    return allowed_images.is_allowed(ctx, image, codes)
