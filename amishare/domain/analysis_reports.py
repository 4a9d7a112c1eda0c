"""Access analysis reports, each built from `analysis.decide` (the enforcing code run for
the principal in question), page by page:

- `launchers`: who can launch an image (for its owner), grouped as the console shows them;
  an organization's or OU's accounts are read page by page from the membership indexes,
  so the cost of a page follows the page, whatever the size of the organization;
- `launchable`: the images a principal can launch, through DescribeImages' own branches;
- `exposure`: what an account exposes beyond its organization;
- `what_if`: `launchers` before and after a change applied in a savepoint that is always
  rolled back (the change runs through the operation that would make it; nothing is written).
"""


from amishare.domain import access, accounts, analysis, images, kms, organizations, pagination, policy
from amishare.domain.principal import Principal
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import kms as kms_store
from amishare.store import organizations as org_store
from amishare.store import snapshots as snapshot_store

DEFAULT_PAGE = 50
_KIND_ORDER = {"public": 0, "account": 1, "organization": 2, "organizational-unit": 3}
_OUTSIDER = "000000000000"  # an account in no organization, to ask a key policy about "anyone else"


def _limit(value) -> int:
    return int(value) if value else DEFAULT_PAGE


def _label(kind: str, grantee: str) -> str:
    if kind == "public":
        return "public"
    if kind == "account":
        return f"account {grantee}"
    tail = grantee.rsplit("/", 1)[-1]
    return f"organization {tail}" if kind == "organization" else f"OU {tail}"


def _sources(conn, image) -> list[tuple[str, str]]:
    """The image's grants in a stable order: public, accounts, organizations, OUs."""
    grants = [(row["grantee_type"], row["grantee"]) for row in image_store.launch_permissions(conn, image["image_id"])]
    if image["is_public"]:
        grants.append(("public", "all"))
    return sorted(set(grants), key=lambda g: (_KIND_ORDER.get(g[0], 9), g[1]))


def _accounts_of(conn, kind: str, grantee: str, after: str | None, limit: int) -> list[str]:
    """The accounts a grant reaches, in id order, after `after`: one page from the indexes."""
    if kind == "account":
        return [grantee] if after is None else []
    parts = grantee.split("/")
    if kind == "organization" and len(parts) == 2:
        return [r["account_id"] for r in org_store.members(conn, org_id=parts[1], after=after, limit=limit)]
    if kind == "organizational-unit" and len(parts) == 3:
        unit = org_store.node(conn, parts[2])
        if unit is None or unit["org_id"] != parts[1]:
            return []
        return [r["account_id"] for r in org_store.members_under(conn, parts[1], unit["path"], after, limit)]
    return []


def can_account_launch(ctx, image, account_id: str, iam_allows) -> tuple[bool, str, str]:
    """(can launch, reason, error code) for an account (its root user), by the launch call's own code."""
    if not accounts.exists(ctx.conn, account_id):
        return False, f"account {account_id} does not exist", "AccountNotFound"
    sctx = analysis.as_principal(ctx, Principal.root(account_id))
    allowed, steps = analysis.decide(sctx, image, analysis.LAUNCH, iam_allows)
    reason, code = analysis.first_refusal(steps)
    return allowed, reason, code


def _walk(ctx, image, cursor: tuple[int, str | None], limit: int, iam_allows):
    """(entries, next cursor) of the launchers after `cursor` = (source index, last account)."""
    sources = _sources(ctx.conn, image)
    index, after = cursor
    entries = []
    while index < len(sources) and len(entries) < limit:
        kind, grantee = sources[index]
        if kind == "public":
            entries.append({"Group": "public", "Kind": kind, "Grantee": grantee, "Account": None})
            index, after = index + 1, None
            continue
        room = limit - len(entries)
        found = _accounts_of(ctx.conn, kind, grantee, after, room + 1)
        for account_id in found[:room]:
            can, reason, code = can_account_launch(ctx, image, account_id, iam_allows)
            entries.append({"Group": _label(kind, grantee), "Kind": kind, "Grantee": grantee,
                            "Account": {"Group": _label(kind, grantee), "AccountId": account_id, "Through": grantee,
                                        "CanLaunch": can, "Reason": reason, "ErrorCode": code}})
        if len(found) > room:
            return entries, (index, found[room - 1])
        index, after = index + 1, None
    return entries, ((index, after) if index < len(sources) else None)


def _cursor_text(cursor) -> str:
    return f"{cursor[0]}:{cursor[1] or ''}"


def _cursor(text: str) -> tuple[int, str | None]:
    index, _, after = text.partition(":")
    if not index.isdigit() or (after and not after.isdigit()):
        raise ValueError(text)
    return int(index), after or None


def launchers(ctx, image_id: str, max_results, token, iam_allows) -> dict:
    image = access.find_owned(ctx, image_id)
    fp = pagination.fingerprint("launchers", ctx.account_id, image_id)
    cursor = pagination.decode(token, fp, _cursor, code="ValidationException") or (0, None)
    entries, following = _walk(ctx, image, cursor, _limit(max_results), iam_allows)
    groups: dict[str, dict] = {}
    broken = []
    for entry in entries:
        group = groups.setdefault(entry["Group"], {"Group": entry["Group"], "Kind": entry["Kind"],
                                                   "Grantee": entry["Grantee"], "Accounts": []})
        account = entry["Account"]
        if account is None:
            continue
        (group["Accounts"] if account["CanLaunch"] else broken).append(account)
    return {"ImageId": image_id, "Groups": list(groups.values()), "GrantedButCannotLaunch": broken,
            "NextToken": pagination.encode(_cursor_text(following), fp) if following else None}


def every_launcher(ctx, image, cap: int, iam_allows) -> tuple[dict, bool]:
    """{(account or "public"): can launch} over at most `cap` launchers, and whether there were more."""
    out, cursor = {}, (0, None)
    while cursor is not None and len(out) < cap:
        entries, cursor = _walk(ctx, image, cursor, min(100, cap - len(out)), iam_allows)
        for entry in entries:
            account = entry["Account"]
            key = account["AccountId"] if account else "public"
            previous = out.get(key)
            # An account reached by several grants can launch if any of them works.
            if previous is None or (account and account["CanLaunch"] and not previous["CanLaunch"]):
                out[key] = account or {"Group": "public", "AccountId": "", "Through": "all", "CanLaunch": True,
                                       "Reason": "", "ErrorCode": ""}
    return out, cursor is not None


# --- what an account can launch


_SCOPES = {"shared": {"ExecutableUsers": ["self"]}, "owned": {"Owners": ["self"]}, "all": {}}


def launchable(ctx, principal_ref, scope: str, max_results, token, iam_allows) -> dict:
    who = analysis.subject(ctx, principal_ref)
    if who.account_id != ctx.account_id:
        raise AwsError("AccessDeniedException", f"{ctx.principal.arn} may ask only about principals of its own account.", 400)
    sctx = analysis.as_principal(ctx, who)
    params = dict(_SCOPES[scope], MaxResults=max(5, _limit(max_results)))
    if token:
        params["NextToken"] = token
    rows, following = images.describe_images(sctx, params)
    out = []
    for row in rows:
        allowed, steps = analysis.decide(sctx, row, analysis.LAUNCH, iam_allows)
        grant = access.launch_grant(sctx, row)
        reason, code = analysis.first_refusal(steps)
        out.append({"ImageId": row["image_id"], "OwnerId": row["owner_id"], "Name": row["name"],
                    "Through": f"{grant[0]} {grant[1]}" if grant else "", "CanLaunch": allowed, "Reason": reason,
                    "ErrorCode": code})
    return {"Principal": who.arn, "Images": out, "NextToken": following}


# --- exposure


def _finding(kind: str, resource_type: str, resource_id: str, detail: str, account_id: str = "") -> dict:
    return {"Kind": kind, "ResourceType": resource_type, "ResourceId": resource_id, "AccountId": account_id,
            "Detail": detail}


def _image_findings(ctx, image, org_id: str | None, iam_allows) -> list[dict]:
    image_id = image["image_id"]
    out = []
    if image["is_public"]:
        out.append(_finding("public-image", "AWS::EC2::Image", image_id, "the image is public: every account can launch it"))
    for kind, grantee in _sources(ctx.conn, image):
        if kind == "account":
            if not accounts.exists(ctx.conn, grantee):
                out.append(_finding("shared-with-missing-account", "AWS::EC2::Image", image_id,
                                    f"launch permission for account {grantee}, which does not exist", grantee))
                continue
            membership = organizations.principal_org(ctx.conn, grantee)
            if org_id is None or membership is None or membership.org_id != org_id:
                out.append(_finding("shared-outside-organization", "AWS::EC2::Image", image_id,
                                    f"launch permission for account {grantee}, outside the organization", grantee))
            can, reason, _code = can_account_launch(ctx, image, grantee, iam_allows)
            if not can:
                out.append(_finding("grant-cannot-work", "AWS::EC2::Image", image_id,
                                    f"account {grantee} is granted but can't launch: {reason}", grantee))
        elif kind in ("organization", "organizational-unit"):
            parts = grantee.split("/")
            if len(parts) >= 2 and parts[1] != org_id:
                out.append(_finding("shared-outside-organization", "AWS::EC2::Image", image_id,
                                    f"launch permission for {_label(kind, grantee)} of another organization"))
    return out + _snapshot_findings(ctx, image, org_id)


def _snapshot_findings(ctx, image, org_id: str | None) -> list[dict]:
    """The image's own snapshots that are public or shared (createVolumePermission) outside the organization."""
    devices = image_store.block_devices(ctx.conn, [image["image_id"]])[image["image_id"]]
    snapshots = snapshot_store.get_many(ctx.conn, [d["snapshot_id"] for d in devices if d["snapshot_id"]])
    out = []
    for snapshot_id, row in sorted(snapshots.items()):
        if row["owner_id"] != ctx.account_id:
            continue
        if row["is_public"]:
            out.append(_finding("public-snapshot", "AWS::EC2::Snapshot", snapshot_id,
                                f"the snapshot behind {image['image_id']} is public"))
        for grantee in snapshot_store.permissions(ctx.conn, snapshot_id):
            membership = organizations.principal_org(ctx.conn, grantee)
            if org_id is None or membership is None or membership.org_id != org_id:
                out.append(_finding("snapshot-shared-outside-organization", "AWS::EC2::Snapshot", snapshot_id,
                                    f"createVolumePermission for account {grantee}, outside the organization", grantee))
    return out


def _key_findings(ctx, org_id: str | None) -> list[dict]:
    """Customer keys whose policy lets accounts outside the organization decrypt, asked of the
    key policy by the policy engine itself, for each account it names and for anyone else."""
    out = []
    for row in kms_store.keys_of(ctx.conn, ctx.account_id, ctx.region, limit=1000):
        if row["key_manager"] != "CUSTOMER":
            continue
        document = policy.load_stored(row["policy"])
        named = {_OUTSIDER}
        for statement in document.statements:
            for value in statement.principals or ():
                account = value.split(":")[4] if value.startswith("arn:aws:iam::") else value
                if account.isdigit() and account != ctx.account_id:
                    named.add(account)
        for account in sorted(named):
            membership = organizations.principal_org(ctx.conn, account) if account != _OUTSIDER else None
            if org_id is not None and membership is not None and membership.org_id == org_id:
                continue
            context = {"aws:principalaccount": [account], "kms:calleraccount": [account]}
            if membership is not None:
                context["aws:principalorgid"] = [membership.org_id]
            request = policy.Request(account, "kms:Decrypt", kms.key_arn(row), context)
            if policy.evaluate(document, request) == policy.ALLOW:
                who = "any account outside the organization" if account == _OUTSIDER else f"account {account}"
                out.append(_finding("key-open-outside-organization", "AWS::KMS::Key", kms.key_arn(row),
                                    f"the key policy lets {who} use the key (kms:Decrypt)",
                                    "" if account == _OUTSIDER else account))
    return out


def exposure(ctx, max_results, token, iam_allows) -> dict:
    """Findings for the caller's images in the Region, a page of images at a time; the keys
    come with the first page."""
    membership = organizations.principal_org(ctx.conn, ctx.account_id)
    org_id = membership.org_id if membership else None
    params = {"Owners": ["self"], "IncludeDisabled": True, "IncludeDeprecated": True,
              "MaxResults": max(5, _limit(max_results))}
    if token:
        params["NextToken"] = token
    rows, following = images.describe_images(ctx, params)
    findings = [] if token else _key_findings(ctx, org_id)
    for row in rows:
        findings.extend(_image_findings(ctx, row, org_id, iam_allows))
    return {"AccountId": ctx.account_id, "Region": ctx.region, "Findings": findings, "NextToken": following}


# --- what if


MAX_WHAT_IF = 1000


def _change_call(ctx, image, change: dict) -> tuple[str, str, dict]:
    """The operation (service, name, parameters) that makes the proposed change."""
    kind = change["Kind"]
    image_id = image["image_id"]
    if kind in ("add-launch-permission", "remove-launch-permission", "make-public", "make-private"):
        entry = {"Group": "all"} if kind in ("make-public", "make-private") else {
            k: change[k] for k in ("UserId", "OrganizationArn", "OrganizationalUnitArn") if change.get(k)}
        if len(entry) != 1:
            raise AwsError("ValidationException", "A launch permission change names exactly one of UserId, "
                                                  "OrganizationArn and OrganizationalUnitArn.")
        verb = "Add" if kind in ("add-launch-permission", "make-public") else "Remove"
        return "ec2", "ModifyImageAttribute", {"ImageId": image_id, "LaunchPermission": {verb: [entry]}}
    if kind == "move-account":
        account_id, destination = change.get("AccountId"), change.get("DestinationParentId")
        member = org_store.membership(ctx.conn, account_id) if account_id else None
        if member is None or not destination:
            raise AwsError("ValidationException", "move-account needs the AccountId of a member account and a "
                                                  "DestinationParentId.")
        return "organizations", "MoveAccount", {"AccountId": account_id, "SourceParentId": member["parent_id"],
                                                "DestinationParentId": destination}
    if kind == "put-key-policy":
        if not change.get("KeyId") or not change.get("Policy"):
            raise AwsError("ValidationException", "put-key-policy needs KeyId and Policy.")
        return "kms", "PutKeyPolicy", {"KeyId": change["KeyId"], "Policy": change["Policy"], "PolicyName": "default"}
    if not change.get("PolicyId") or not change.get("TargetId"):
        raise AwsError("ValidationException", f"{kind} needs PolicyId and TargetId.")
    name = "AttachPolicy" if kind == "attach-scp" else "DetachPolicy"
    return "organizations", name, {"PolicyId": change["PolicyId"], "TargetId": change["TargetId"]}


def what_if(ctx, image_id: str, change: dict, max_accounts, iam_allows, apply) -> dict:
    """Who gains and who loses the ability to launch the image if `change` were made by the
    caller. The change runs (`apply`: authorized and performed by the operation that makes it)
    inside a savepoint that is always rolled back."""
    image = access.find_owned(ctx, image_id)
    cap = min(int(max_accounts or MAX_WHAT_IF), 5000)
    service, name, params = _change_call(ctx, image, change)
    before, more_before = every_launcher(ctx, image, cap, iam_allows)
    savepoint = ctx.conn.begin_nested()
    try:
        apply(analysis.as_principal(ctx, ctx.principal), service, name, params)
        changed = image_store.get_in_region(ctx.conn, ctx.region, image_id)
        after, more_after = every_launcher(ctx, changed, cap, iam_allows)
    finally:
        savepoint.rollback()
    def can(side, key):
        return key in side and side[key]["CanLaunch"]
    gained = [after[k] for k in sorted(after) if can(after, k) and not can(before, k)]
    lost = [dict(before[k], Reason=(after.get(k) or {}).get("Reason") or "no launch permission reaches it any more")
            for k in sorted(before) if can(before, k) and not can(after, k)]
    unchanged = sum(1 for k in set(before) | set(after) if can(before, k) == can(after, k))
    return {"ImageId": image_id, "Gained": gained, "Lost": lost, "Unchanged": unchanged,
            "Evaluated": len(set(before) | set(after)), "Truncated": more_before or more_after}


