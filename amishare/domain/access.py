"""Who may see and launch which image: the one place this is decided.

An image is visible to, and launchable by, its owner, everyone when it is
public, and every principal it was shared with. Every caller of the domain
(DescribeImages, RunInstances, CopyImage, CreateImage, the attribute calls)
goes through these functions.
"""

from amishare.domain import ids, organizations, trace
from amishare.errors import AwsError
from amishare.store import images as image_store


def caller_grantees(ctx) -> list[tuple[str, str]]:
    """The launch-permission entries through which the caller is reached: its account id, and,
    from the organization tree as the call finds it, its organization and every OU on its path
    (organizations.account_org: one indexed read, remembered until any organization changes)."""
    cached = ctx.memo.get("grantees")
    if cached is None:
        cached = [("account", ctx.account_id)]
        membership = caller_org(ctx)
        if membership is not None:
            cached.append(("organization", membership.org_arn))
            cached.extend(("organizational-unit", arn) for arn in membership.ou_arns)
        ctx.memo["grantees"] = cached
    return cached


def caller_org(ctx):
    """The caller's organization and place in it (organizations.principal_org), read once per call
    and shared by whatever needs it (its grantees here, its aws:PrincipalOrg* condition keys)."""
    if "org" not in ctx.memo:
        ctx.memo["org"] = organizations.principal_org(ctx.conn, ctx.account_id, ctx.principal.org_generation)
    return ctx.memo["org"]


def visible_condition(ctx):
    return image_store.owned_by([ctx.account_id]) | image_store.public() | image_store.granted_to(caller_grantees(ctx))


def launch_grant(ctx, image) -> tuple[str, str] | None:
    """Why the caller may see and launch the image: ("owner", account), ("public", "all"), or the
    launch permission that reaches it, (grantee type, grantee), the most specific first (its
    account, then the deepest OU on its path, then its organization); None when nothing does."""
    if image["owner_id"] == ctx.account_id:
        return "owner", ctx.account_id
    if image["is_public"]:
        return "public", "all"
    grantees = caller_grantees(ctx)
    found = image_store.granted_among(ctx.conn, image["image_id"], grantees)
    order = {("account", ctx.account_id): 0}
    order.update({g: i for i, g in enumerate(reversed(grantees[1:]), 1)})  # deepest OU, …, the organization
    return min(found, key=lambda g: order.get(g, len(order))) if found else None


def can_launch(ctx, image, granted: bool | None = None) -> bool:
    """`granted`: whether the caller's grantees hold a launch permission on the image, when
    already read with it (None: look it up). Which grant it is is read only for an explanation."""
    if granted is not None and not trace.active(ctx):
        return image["owner_id"] == ctx.account_id or bool(image["is_public"]) or granted
    grant = launch_grant(ctx, image)
    if trace.active(ctx):
        if grant is None:
            trace.note(ctx, "launch-permission", trace.DENIED,
                       f"no launch permission of {image['image_id']} reaches account {ctx.account_id} "
                       "(not its account, organization or any OU on its path), and the image is not public",
                       ErrorCode="InvalidAMIID.NotFound")
        else:
            trace.note(ctx, "launch-permission", trace.ALLOWED, _grant_words(grant, image),
                       Source=f"{grant[0]} {grant[1]}")
    return grant is not None


def _grant_words(grant, image) -> str:
    kind, value = grant
    if kind == "owner":
        return f"account {value} owns {image['image_id']}"
    if kind == "public":
        return f"{image['image_id']} is public"
    return {"account": f"launch permission for account {value}",
            "organization": f"launch permission for organization {value}",
            "organizational-unit": f"launch permission for organizational unit {value} (on the account's path)",
            }.get(kind, f"launch permission {kind} {value}")


def find_visible(ctx, image_id: str, region: str | None = None):
    """The image as the caller may see it, or InvalidAMIID.NotFound: others' private images don't exist for them."""
    ids.check("ami", image_id)
    image = image_store.get_in_region(ctx.conn, region or ctx.region, image_id)
    if image is None or not can_launch(ctx, image):
        raise ids.not_found("ami", [image_id])
    return image


def visible_by_ids(ctx, image_ids: list[str]) -> list:
    """The named images, each checked as RunInstances would; any the caller can't see is NotFound."""
    rows = image_store.get_many_with_grant(ctx.conn, ctx.region, image_ids, caller_grantees(ctx))
    visible = {r["image_id"]: r for r in rows if can_launch(ctx, r, bool(r.pop("granted")))}
    missing = [i for i in image_ids if i not in visible]
    if missing:
        raise ids.not_found("ami", missing)
    return [visible[i] for i in sorted(visible)]


def find_owned(ctx, image_id: str):
    """The caller's own image; a visible image of someone else gives AuthFailure, as on AWS."""
    image = find_visible(ctx, image_id)
    if image["owner_id"] != ctx.account_id:
        raise AwsError("AuthFailure", f"Not authorized for image:{image_id}")
    return image


# Up to this many named owners, each gets its own index-ordered branch (a page reads at most
# a page from each); beyond it, one branch over all of them keeps the statement small.
_OWNERS_AS_BRANCHES = 8


def describe_branches(ctx, owners: list[str] | None, executable_users: list[str] | None):
    """Index-driven branches whose union is what DescribeImages may return.

    Each branch is (driver, extra_conditions); the driver picks the index that
    bounds the work (an owner, the public set, a grantee's permissions).
    """
    me = ctx.account_id
    exec_condition = None
    if executable_users:
        exec_condition = _executable_condition(ctx, executable_users)
    if owners:
        # Another owner's images reach the caller only through the public set or the caller's
        # grants; each of those is driven by its own index, never by the owner's whole catalog.
        extra = [exec_condition] if exec_condition is not None else []
        branches = [(("owner", me), extra)] if me in owners else []
        others = [owner for owner in owners if owner != me]
        if len(others) <= _OWNERS_AS_BRANCHES:
            branches.extend((("owner_public", owner), extra) for owner in others)
        else:  # one statement for many owners: its cost follows their public images, compiled once
            branches.append((("owners_public", tuple(others)), extra))
        if others:
            branches.extend((("grant", g), [image_store.owned_by(others)] + extra) for g in caller_grantees(ctx))
        return branches
    if executable_users:
        branches = []
        for user in executable_users:
            if user in ("self", me):
                branches.extend((("grant", g), []) for g in caller_grantees(ctx))
            elif user == "all":
                branches.append((("public", None), []))
        others = _other_accounts(ctx, executable_users)
        if others:
            # Who an owner shares with is the owner's business: another account id only
            # selects the caller's own images shared with it (the caller's owner index,
            # each row probed by the grant's primary key), one branch for all of them.
            branches.append((("owner", me), [image_store.granted_to_accounts(others)]))
        return branches
    branches = [(("owner", me), []), (("public", None), [])]
    branches.extend((("grant", g), []) for g in caller_grantees(ctx))
    return branches


def narrowing_conditions(ctx, owners: list[str], executable_users: list[str]) -> list:
    """Owners and ExecutableUsers as conditions on an already visible set (DescribeImages by id)."""
    conditions = []
    if owners:
        conditions.append(image_store.owned_by(owners))
    if executable_users:
        conditions.append(_executable_condition(ctx, executable_users))
    return conditions


def _other_accounts(ctx, executable_users) -> list[str]:
    return [user for user in executable_users if user not in ("self", "all", ctx.account_id)]


def _executable_condition(ctx, executable_users):
    conditions = []
    for user in executable_users:
        if user in ("self", ctx.account_id):
            conditions.append(image_store.granted_to(caller_grantees(ctx)))
        elif user == "all":
            conditions.append(image_store.public())
    others = _other_accounts(ctx, executable_users)
    if others:
        # Only the caller's own grants to those accounts: never another owner's.
        conditions.append(image_store.owned_by([ctx.account_id]) & image_store.granted_to_accounts(others))
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return combined


def resolve_owners(ctx, owners: list[str]) -> list[str]:
    from amishare.domain.catalog import ALIAS_ACCOUNTS

    resolved = []
    for owner in owners:
        if owner == "self":
            resolved.append(ctx.account_id)
        elif owner in ALIAS_ACCOUNTS:
            resolved.append(ALIAS_ACCOUNTS[owner])
        elif ids.is_account_id(owner):
            resolved.append(owner)
        else:
            raise AwsError("InvalidUserID.Malformed", f"Invalid user id: \"{owner}\"")
    return list(dict.fromkeys(resolved))


def check_executable_users(ctx, users: list[str]) -> list[str]:
    for user in users:
        if user not in ("self", "all") and not ids.is_account_id(user):
            raise AwsError("InvalidUserID.Malformed", f"Invalid user id: \"{user}\"")
    return list(dict.fromkeys(users))
