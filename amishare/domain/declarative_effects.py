"""What a change in the organization does at once to the accounts it moves under or out of a
declarative policy for EC2.

Most of what such a policy decides is read live on every request (declarative_policies.effective).
One effect is stored: block-all-sharing for snapshots makes the owner's public snapshots
private (keeping the permission, so that unblocking makes them public again), and the public
snapshot indices only list what is public. So when the policies that apply to accounts
change (a policy attached, detached or edited; the type disabled; an account moved, joining
or leaving), their public snapshots are settled in every Region to the state then in force:
the policy's where it sets one, else the account's own per Region. The cost is one update per
affected account, in the organization change that causes it."""

from amishare.domain import declarative_policies, guardrails
from amishare.models import commercial_regions
from amishare.store import org_policies as policy_store
from amishare.store import organizations as org_store
from amishare.store import settings as settings_store
from amishare.store import snapshots as snapshot_store

_SETTING = "snapshot_block_public_access"


def mentions_snapshots(*contents) -> bool:
    """Whether any of these policy documents (JSON text, or None) names the snapshot attribute."""
    return any(_SETTING in (content or "") for content in contents)


def settle_accounts(ctx, account_ids) -> None:
    regions = commercial_regions()
    for account_id in account_ids:
        ctx.memo.pop(("declarative", account_id), None)
        effective = declarative_policies.effective_for(ctx.conn, account_id)
        enforced = effective.snapshot_block_public_access if effective else None
        if enforced:
            hidden = set(regions) if enforced == guardrails.BLOCK_ALL else set()
        else:
            hidden = set(settings_store.regions_set_to(ctx.conn, account_id, guardrails.SNAPSHOT_BPA_SETTING,
                                                       guardrails.BLOCK_ALL))
        snapshot_store.hide_public_in(ctx.conn, account_id, sorted(hidden))
        snapshot_store.restore_public_in(ctx.conn, account_id, sorted(set(regions) - hidden))


def settle_target(ctx, org, target_id) -> None:
    """Every account at or under a root, OU or account."""
    if target_id.isdigit():
        settle_accounts(ctx, [target_id])
        return
    node = org_store.node(ctx.conn, target_id)
    if node is not None:
        settle_accounts(ctx, org_store.accounts_under(ctx.conn, org["org_id"], node["path"]))


def settle_member(ctx, org_id, account_id) -> None:
    """An account moved, joined or left: only where its organization uses declarative policies
    (`org_id` None: the organization is gone)."""
    if org_id is None or policy_store.type_enabled(ctx.conn, org_id, declarative_policies.POLICY_TYPE):
        settle_accounts(ctx, [account_id])
