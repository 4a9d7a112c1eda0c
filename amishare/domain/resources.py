"""The resources a call acts on, as IAM names them: an ARN, the owning account
and the condition keys the resource supplies (ec2:Owner, ec2:Public,
ec2:ResourceTag/…, …). Read only when a policy will look at them, and only for
resources the caller may see: anything else is named as if it didn't exist."""

from dataclasses import dataclass, field
from typing import Callable

from amishare.domain import access, ownership
from amishare.domain.catalog import ALIAS_ACCOUNTS
from amishare.store import images as image_store
from amishare.store import instances as instance_store
from amishare.store import snapshots as snapshot_store
from amishare.store import tags as tag_store
from amishare.store import volumes as volume_store

_OWNER_ALIASES = {account: alias for alias, account in ALIAS_ACCOUNTS.items()}


@dataclass(frozen=True)
class Resource:
    arn: str
    account_id: str | None = None  # the owner, when the resource exists and has one
    context: dict = field(default_factory=dict)  # lower-cased condition keys -> values
    policy: dict | None = None  # its resource policy (a KMS key policy), parsed
    policy_required: bool = False  # that policy is the only authority over the resource (KMS keys)
    grants: tuple = ()  # (grantee principal, frozenset of actions, grant id) (KMS grants)

    def granting(self, principal, action: str) -> list[str]:
        """The ids of the grants that allow `principal` the action."""
        names = {principal.arn, principal.account_id} if principal.is_root else {principal.arn}
        return [grant_id for grantee, actions, grant_id in self.grants if grantee in names and action in actions]

    def grants_allow(self, principal, action: str) -> bool:
        return bool(self.granting(principal, action))


def everything() -> Resource:
    return Resource("*")


def new(ctx, kind: str, region: str | None = None, account_id: str | None = None) -> Resource:
    """A resource the call creates: arn:aws:ec2:REGION:ACCOUNT:volume/* and the like (images have no account)."""
    owner = "" if kind == "image" else (account_id or ctx.account_id)
    return Resource(f"arn:aws:ec2:{region or ctx.region}:{owner}:{kind}/*", ctx.account_id)


def _with_tags(ctx, resource_id: str, owner: str, base: dict) -> dict:
    """The owner's tags as ec2:ResourceTag/ and aws:ResourceTag/ keys."""
    for tag in tag_store.for_resources(ctx.conn, owner, [resource_id])[resource_id]:
        base[f"ec2:resourcetag/{tag['Key'].lower()}"] = [tag["Value"]]
        base[f"aws:resourcetag/{tag['Key'].lower()}"] = [tag["Value"]]
    return base


@dataclass(frozen=True)
class _Kind:
    """How one kind of EC2 resource is named for authorization."""

    name: str  # image, snapshot, volume, instance: the ARN's resource type and ec2:<name>id
    account_in_arn: bool  # volumes and instances name their account; images and snapshots don't
    read: Callable  # (conn, id, region) -> its row in that Region, or None
    visible: Callable  # (ctx, row) -> the caller may see it: owns it, or it is shared with it
    keys: Callable  # (row) -> its own condition keys, besides ec2:Region, ec2:<name>id and the tags


def _in_region(get):
    def read(conn, resource_id, region):
        row = get(conn, resource_id)
        return row if row is not None and row["region"] == region else None

    return read


def _owned(ctx, row) -> bool:
    return row["owner_id"] == ctx.account_id


def _owner_alias(row) -> dict:
    return {"ec2:owner": [_OWNER_ALIASES.get(row["owner_id"], row["owner_id"])]}


def _encrypted(row) -> dict:
    return {"ec2:encrypted": ["true" if row["encrypted"] else "false"]}


def _image_in(conn, image_id, region):
    return image_store.get_in_region(conn, region, image_id)


_IMAGE = _Kind("image", False, _image_in, lambda ctx, row: access.can_launch(ctx, row),
               lambda row: {**_owner_alias(row), "ec2:public": ["true" if row["is_public"] else "false"],
                            "ec2:imagetype": ["machine"], "ec2:rootdevicetype": [row["root_device_type"] or "ebs"]})
_SNAPSHOT = _Kind("snapshot", False, _in_region(snapshot_store.get),
                  lambda ctx, row: ownership.snapshot_readable(ctx, row),
                  lambda row: {**_owner_alias(row), **_encrypted(row), "ec2:volumesize": [str(row["volume_size"])]})
_VOLUME = _Kind("volume", True, _in_region(volume_store.get), _owned, _encrypted)
_INSTANCE = _Kind("instance", True, _in_region(instance_store.get), _owned, lambda row: {})


def _named(ctx, kind: _Kind, resource_id, region: str | None) -> Resource:
    """The resource as IAM sees it. One the caller can't see (another account's, not shared with
    it) is named exactly as one that doesn't exist: under the caller's own account, with no
    condition keys, so that no policy on ec2:ResourceTag/…, ec2:Owner or the like can answer
    differently for it and tell the caller what it isn't allowed to see."""
    region = region or ctx.region
    row = kind.read(ctx.conn, resource_id, region) if isinstance(resource_id, str) else None
    if row is None or not kind.visible(ctx, row):
        owner = ctx.account_id if kind.account_in_arn else ""
        return Resource(f"arn:aws:ec2:{region}:{owner}:{kind.name}/{resource_id}")
    owner = row["owner_id"]
    context = {"ec2:region": [region], f"ec2:{kind.name}id": [resource_id], **kind.keys(row)}
    arn = f"arn:aws:ec2:{region}:{owner if kind.account_in_arn else ''}:{kind.name}/{resource_id}"
    return Resource(arn, owner, _with_tags(ctx, resource_id, owner, context))


def image(ctx, image_id: str, region: str | None = None) -> Resource:
    return _named(ctx, _IMAGE, image_id, region)


def snapshot(ctx, snapshot_id: str, region: str | None = None) -> Resource:
    return _named(ctx, _SNAPSHOT, snapshot_id, region)


def volume(ctx, volume_id: str, region: str | None = None) -> Resource:
    return _named(ctx, _VOLUME, volume_id, region)


def instance(ctx, instance_id: str, region: str | None = None) -> Resource:
    return _named(ctx, _INSTANCE, instance_id, region)


_BY_PREFIX = {"ami": image, "snap": snapshot, "vol": volume, "i": instance}


def by_id(ctx, resource_id: str) -> Resource:
    """Any taggable EC2 resource named by its id."""
    namer = _BY_PREFIX.get(str(resource_id).split("-", 1)[0])
    if namer is None:
        return Resource(f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:*/{resource_id}")
    return namer(ctx, resource_id)


# The entity an IAM operation acts on, as AWS's service authorization reference names it.
# Operations on a group's membership act on the group; the rest name their entity by the
# first of these members present.
_IAM_GROUP_OPERATIONS = {"AddUserToGroup", "RemoveUserFromGroup", "GetGroup", "DeleteGroup", "CreateGroup",
                         "AttachGroupPolicy", "DetachGroupPolicy", "PutGroupPolicy", "GetGroupPolicy",
                         "DeleteGroupPolicy", "ListGroupPolicies", "ListAttachedGroupPolicies"}
_IAM_NAMES = (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group"))
# Operations that name no single entity act on "*" (listings, account-wide reads).
_IAM_ACCOUNT_WIDE = {"ListUsers", "ListRoles", "ListGroups", "ListPolicies", "GetAccountAuthorizationDetails",
                     "SimulateCustomPolicy"}


def _iam_arn(ctx, kind: str, name: str, path: str | None = None) -> Resource:
    from amishare.domain import iam_common
    from amishare.store import iam as iam_store

    row = iam_store.entity_by_name(ctx.conn, kind, ctx.account_id, name)
    if row is not None:
        return Resource(iam_common.row_arn(kind, row), ctx.account_id)
    return Resource(iam_common.arn(ctx.account_id, kind, path or "/", name), ctx.account_id)


def iam_entity(ctx, params: dict, operation: str = "") -> list[Resource]:
    """What an IAM call acts on, as IAM's resource ARN: the group of a membership change; the
    user, role or group it names (with its path: the stored one, or the one a create asks
    for); the policy it creates or names; the entity a simulation is about; else "*" (a
    user's own entry when a user asks about itself without a name)."""
    if operation in _IAM_ACCOUNT_WIDE:
        return [Resource("*")]
    if operation in _IAM_GROUP_OPERATIONS and isinstance(params.get("GroupName"), str):
        return [_iam_arn(ctx, "group", params["GroupName"], params.get("Path"))]
    if operation == "SimulatePrincipalPolicy" and isinstance(params.get("PolicySourceArn"), str):
        return [Resource(params["PolicySourceArn"])]
    if operation == "CreatePolicy" and isinstance(params.get("PolicyName"), str):
        from amishare.domain import iam_common

        return [Resource(iam_common.arn(ctx.account_id, "policy", params.get("Path") or "/", params["PolicyName"]),
                         ctx.account_id)]
    for member, kind in _IAM_NAMES:
        name = params.get(member)
        if isinstance(name, str):
            return [_iam_arn(ctx, kind, name, params.get("Path"))]
    if isinstance(params.get("PolicyArn"), str):
        return [Resource(params["PolicyArn"])]
    if ctx.principal.kind == "user" and operation in ("GetUser", "ListAccessKeys", "CreateAccessKey",
                                                      "UpdateAccessKey", "DeleteAccessKey", "ListGroupsForUser",
                                                      "ChangePassword"):
        return [Resource(ctx.principal.arn, ctx.account_id)]
    return [Resource("*")]


def iam_request_context(ctx, params: dict) -> dict:
    """The condition keys an IAM request supplies: iam:PolicyARN, iam:PermissionsBoundary and
    the tags it asks for (aws:RequestTag/…, aws:TagKeys)."""
    context = {}
    if isinstance(params.get("PolicyArn"), str):
        context["iam:policyarn"] = [params["PolicyArn"]]
    boundary = params.get("PermissionsBoundary")
    if isinstance(boundary, str):
        context["iam:permissionsboundary"] = [boundary]
    context.update(request_tags(params.get("Tags")))
    return context


def request_tags(tags) -> dict:
    """aws:RequestTag/KEY and aws:TagKeys for the tags a request asks for."""
    pairs = [t for t in tags or [] if isinstance(t, dict) and isinstance(t.get("Key"), str)]
    if not pairs:
        return {}
    context = {"aws:tagkeys": [t["Key"] for t in pairs]}
    for t in pairs:
        context[f"aws:requesttag/{t['Key'].lower()}"] = [str(t.get("Value", ""))]
    return context
