"""EBS snapshots: creation from volumes, copies, description and deletion."""

from sqlalchemy import or_

from amishare.domain import ids, keys, lifecycle, ownership, productcodes, tags
from amishare.domain.listing import Listing
from amishare.domain.regions import check_region
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import snapshots as store
from amishare.store import tags as tag_store


def new_snapshot(ctx, *, volume_id, volume_size, description, encrypted, kms_key_id, ready_after=None,
                 source_snapshot_id=None, source_region=None, owner_id=None, product_codes=None) -> str:
    snapshot_id = ids.new_id("snap")
    state = lifecycle.transition("pending", "completed", ctx.now, ctx.settings.state_delay)
    if ready_after is not None and ready_after > ctx.now and state["next_state"] is None:
        state = {"state": "pending", "next_state": "completed", "next_state_at": ready_after}
    store.insert_snapshot(
        ctx.conn, snapshot_id=snapshot_id, region=ctx.region, owner_id=owner_id or ctx.account_id,
        volume_id=volume_id, volume_size=volume_size, description=description, start_time=ctx.now,
        encrypted=encrypted, kms_key_id=kms_key_id, is_public=False, source_snapshot_id=source_snapshot_id,
        source_region=source_region, product_codes=productcodes.dump(product_codes), **state,
    )
    return snapshot_id


def create_snapshot(ctx, volume_id, description, tag_specifications):
    volume = ownership.owned_volume(ctx, volume_id)
    requested = tags.from_specifications(tag_specifications, {"snapshot"})
    snapshot_id = new_snapshot(
        ctx, volume_id=volume_id, volume_size=volume["size"], description=description,
        encrypted=volume["encrypted"], kms_key_id=volume["kms_key_id"],
        product_codes=productcodes.load(volume["product_codes"]),
    )
    if requested.get("snapshot"):
        tags.apply(ctx, snapshot_id, "snapshot", ctx.account_id, requested["snapshot"])
    return store.get(ctx.conn, snapshot_id)


def copy_snapshot(ctx, source_snapshot_id, source_region, description, encrypted, kms_key_id, tag_specifications):
    check_region(source_region)
    source = ownership.readable_snapshot(ctx, source_snapshot_id, region=source_region)
    if lifecycle.settled(source, ctx.now) != "completed":
        raise AwsError("IncorrectState", f"Snapshot {source_snapshot_id} is not in the completed state.")
    requested = tags.from_specifications(tag_specifications, {"snapshot"})
    if source["encrypted"]:
        keys.check_use(ctx, source["kms_key_id"])
        key = keys.resolve(ctx, True, kms_key_id) if kms_key_id else (
            source["kms_key_id"] if source["owner_id"] == ctx.account_id and source_region == ctx.region
            else keys.default_ebs_key_arn(ctx)
        )
        is_encrypted = True
    else:
        is_encrypted = bool(encrypted)
        key = keys.resolve(ctx, is_encrypted, kms_key_id)
    snapshot_id = new_snapshot(
        ctx, volume_id="vol-ffffffff", volume_size=source["volume_size"],
        description=description if description is not None else (
            f"[Copied {source_snapshot_id} from {source_region}]"),
        encrypted=is_encrypted, kms_key_id=key,
        source_snapshot_id=source_snapshot_id, source_region=source_region,
        product_codes=productcodes.load(source["product_codes"]),
    )
    if requested.get("snapshot"):
        tags.apply(ctx, snapshot_id, "snapshot", ctx.account_id, requested["snapshot"])
    return snapshot_id


def delete_snapshot(ctx, snapshot_id):
    row = ownership.owned_snapshot(ctx, snapshot_id)
    # Only the owner's own images hold a snapshot: another account's image never blocks its deletion.
    user = image_store.image_using_snapshot(ctx.conn, snapshot_id, row["owner_id"])
    if user is not None:
        raise AwsError("InvalidSnapshot.InUse", f"The snapshot {snapshot_id} is currently in use by {user}")
    store.delete_snapshot(ctx.conn, row["snapshot_id"])
    tag_store.remove_all(ctx.conn, snapshot_id)


def _restorable(ctx, restorable_by):
    """RestorableByUserIds as (condition, index-driven branches), or (None, None).

    `self` is the caller's own snapshots and those shared with it, `all` the public ones. Who an
    owner shares with is the owner's business: another account id only selects the caller's own
    snapshots shared with that account."""
    if not restorable_by:
        return None, None
    me = ctx.account_id
    conditions, branches, accounts = [], [], []
    for user in dict.fromkeys(restorable_by):
        if user in ("self", me):
            conditions.append((store.c.owner_id == me) | store.restorable_by([me]))
            branches += [(("owner", me), []), (("grant", me), [])]
        elif user == "all":
            conditions.append(store.c.is_public == True)  # noqa: E712
            branches.append((("public", None), []))
        elif ids.is_account_id(user):
            accounts.append(user)
        else:
            raise AwsError("InvalidUserID.Malformed", f'Invalid user id: "{user}"')
    if accounts:
        # One condition for every other account named, however many: the caller's own snapshots
        # shared with any of them.
        shared = (store.c.owner_id == me) & store.restorable_by(accounts)
        conditions.append(shared)
        branches.append((("owner", me), [shared]))
    return or_(*conditions), branches


SNAPSHOTS = Listing("snapshots", key="snapshot_id", max_results=(5, 1000), branch=store.branch,
                    filters=store.FILTERS, tag_column=store.c.snapshot_id, id_prefix="snap", ids_param="snapshotId")


def describe_snapshots(ctx, snapshot_ids, owner_ids, restorable_by, filters, max_results, next_token):
    from amishare.domain.access import resolve_owners

    query = SNAPSHOTS.request(ctx, ids=snapshot_ids, filters=filters, max_results=max_results, next_token=next_token,
                              criteria=(ctx.account_id, owner_ids, restorable_by, filters))
    me = ctx.account_id
    readable = store.readable_by(me)
    restorable, restorable_branches = _restorable(ctx, restorable_by)
    if query.ids:
        branches = [(("ids", query.ids), [readable])]
    elif owner_ids:
        owners = resolve_owners(ctx, owner_ids)
        branches = [(("owner", o), [] if o == me else [readable]) for o in owners]
    elif restorable_branches:
        branches = restorable_branches
    else:
        branches = [(("owner", me), []), (("public", None), []), (("grant", me), [])]
    conditions = [restorable] if restorable is not None else []
    rows, token = query.run(branches, conditions, narrowed=restorable is not None)
    own_tags = tag_store.for_resources(ctx.conn, me, [r["snapshot_id"] for r in rows if r["owner_id"] == me])
    return rows, own_tags, token
