"""User tags. They belong to the resource's owner and are shown to no one else."""

from amishare.domain import ids
from amishare.domain.listing import Listing
from amishare.errors import AwsError
from amishare.store import tags as store

MAX_TAGS = 50


def _validate(tag_list, allow_missing_value: bool) -> list[tuple[str, str | None]]:
    pairs = []
    for tag in tag_list:
        key = tag.get("Key")
        if key is None or key == "":
            raise AwsError("InvalidParameterValue", "Tag keys must be between 1 and 128 characters long.")
        if len(key) > 128:
            raise AwsError("InvalidParameterValue", f"Tag key exceeds the maximum length of 128 characters: {key[:32]}...")
        if key.lower().startswith("aws:"):
            raise AwsError("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
        value = tag.get("Value")
        if value is None and not allow_missing_value:
            value = ""
        if value is not None and len(value) > 256:
            raise AwsError("InvalidParameterValue", f"Tag value exceeds the maximum length of 256 characters for key {key}.")
        pairs.append((key, value))
    return pairs


def apply(ctx, resource_id: str, resource_type: str, owner_id: str, tag_list) -> None:
    pairs = _validate(tag_list, allow_missing_value=False)
    existing = store.keys_of(ctx.conn, resource_id)
    if len(existing | {k for k, _ in pairs}) > MAX_TAGS:
        raise AwsError("TagLimitExceeded", f"The maximum number of tags for resource {resource_id} ({MAX_TAGS}) has been exceeded.")
    store.upsert(ctx.conn, resource_id, resource_type, owner_id, ctx.region, pairs)


def from_specifications(specs, allowed: set[str]) -> dict[str, list]:
    """Tags requested per resource type by TagSpecifications; unknown types are refused."""
    out: dict[str, list] = {}
    for spec in specs or ():
        kind = spec.get("ResourceType")
        if kind not in allowed:
            raise AwsError(
                "InvalidParameterValue",
                f"'{kind}' is not a valid taggable resource type for this operation.",
            )
        pairs = _validate(spec.get("Tags") or [], allow_missing_value=False)
        out.setdefault(kind, []).extend({"Key": k, "Value": v} for k, v in pairs)
    return out


def create_tags(ctx, resources: list[str], tag_list) -> None:
    from amishare.domain import ownership

    _validate(tag_list, allow_missing_value=False)
    targets = [ownership.owned_resource(ctx, r) for r in resources]
    for resource_id, kind in targets:
        apply(ctx, resource_id, kind, ctx.account_id, tag_list)


def delete_tags(ctx, resources: list[str], tag_list) -> None:
    from amishare.domain import ownership

    items = _validate(tag_list or [], allow_missing_value=True)
    targets = [ownership.owned_resource(ctx, r) for r in resources]
    for resource_id, _ in targets:
        if tag_list:
            store.remove(ctx.conn, resource_id, items)
        else:
            store.remove_all(ctx.conn, resource_id)


# Tags are listed as rows of their own, by resource and key; tag filters don't apply to them.
TAGS = Listing("tags", key=("resource_id", "key"), max_results=(5, 1000), branch=store.branch, filters=store.FILTERS)


def describe_tags(ctx, filters, max_results, next_token):
    """The caller's own tags (tags are private to the resource's owner)."""
    query = TAGS.request(ctx, filters=filters, max_results=max_results, next_token=next_token, criteria=(filters,))
    return query.run([(("owner", ctx.account_id), [])])


def check_resource_id(resource_id: str) -> str:
    if ids.resource_type(resource_id) is None:
        raise AwsError("InvalidID", f"The ID '{resource_id}' is not valid")
    return resource_id


def own_tags(ctx, resource_id: str) -> list:
    """The caller's tags on one of its resources, as the create calls return them."""
    return store.for_resources(ctx.conn, ctx.account_id, [resource_id])[resource_id]
