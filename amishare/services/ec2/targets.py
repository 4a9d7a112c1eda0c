"""How EC2 operations name what they act on, for authorization: the resources
(as ARNs with their condition keys) and the request's own condition keys."""

from amishare.domain import resources

IMAGE = resources.image
SNAPSHOT = resources.snapshot
VOLUME = resources.volume
INSTANCE = resources.instance


def named(namer, param: str, region_param: str | None = None):
    """The resource(s) named by `param` (one id or a list of ids)."""
    def name(ctx, params):
        value = params.get(param)
        values = value if isinstance(value, list) else [value] if value is not None else []
        region = params.get(region_param) if region_param else None
        if region is not None:
            return [namer(ctx, v, region) for v in values]
        return [namer(ctx, v) for v in values]

    return name


def creates(kind: str, *also):
    """A new resource of `kind` (arn:…:kind/*), plus those the `also` namers name."""
    def name(ctx, params):
        out = [resources.new(ctx, kind)]
        for namer in also:
            out.extend(namer(ctx, params))
        return out

    return name


def tagged(ctx, params):
    return [resources.by_id(ctx, r) for r in params.get("Resources") or []]


def _permission_changes(params, structured: str) -> tuple[list, list]:
    changes = params.get(structured) or {}
    add, remove = list(changes.get("Add") or []), list(changes.get("Remove") or [])
    groups = params.get("UserGroups") or params.get("GroupNames") or []
    legacy = [{"UserId": u} for u in params.get("UserIds") or []] + [{"Group": g} for g in groups]
    if legacy:
        (add if params.get("OperationType") == "add" else remove).extend(legacy)
    return add, remove


def permission_context(structured: str):
    """ec2:Add/userId, ec2:Add/group, ec2:Remove/userId, ec2:Remove/group for attribute changes."""
    def context(ctx, params):
        add, remove = _permission_changes(params, structured)
        out = {}
        for verb, entries in (("add", add), ("remove", remove)):
            users = [e["UserId"] for e in entries if e.get("UserId")]
            groups = [e["Group"] for e in entries if e.get("Group")]
            if users:
                out[f"ec2:{verb}/userid"] = users
            if groups:
                out[f"ec2:{verb}/group"] = groups
        return out

    return context


def creates_only(kind: str):
    def name(ctx, params):
        return [resources.new(ctx, kind)]

    return name
