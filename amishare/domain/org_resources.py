"""What an Organizations call acts on, as AWS's service authorization reference for
Organizations names it: the organization, its root, OUs, member accounts and policies,
under the management account's ARNs

    arn:aws:organizations::MANAGEMENT:root/o-…/r-…
    arn:aws:organizations::MANAGEMENT:ou/o-…/ou-…
    arn:aws:organizations::MANAGEMENT:account/o-…/ACCOUNT
    arn:aws:organizations::MANAGEMENT:policy/o-…/service_control_policy/p-…
    arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess  (AWS managed)

with the condition keys the resource supplies: aws:ResourceTag/… of the root, OUs,
accounts and policies, and organizations:PolicyType of a policy. Calls on the whole
organization (DescribeOrganization, ListAccounts, CreatePolicy, …) name no resource
("*"). Tags are supplied only to the management account and only for what belongs to
its organization, the only caller that may read them (ListTagsForResource): a policy on
aws:ResourceTag can't tell anyone else what another organization tags.
A caller in no organization names nothing ("*"): the call fails with
AWSOrganizationsNotInUseException once authorized."""

from amishare.domain.organizations import FULL_AWS_ACCESS_ARN, FULL_AWS_ACCESS_ID, OU_RE
from amishare.domain.resources import Resource
from amishare.store import org_policies as policy_store
from amishare.store import organizations as store

SERVICE_CONTROL_POLICY = "service_control_policy"


class Scope:
    """The caller's organization, read once per call: the names it gives, and what it may see."""

    def __init__(self, ctx):
        self.ctx = ctx
        member = store.membership(ctx.conn, ctx.account_id)
        self.org = store.org_by_id(ctx.conn, member["org_id"]) if member is not None else None

    @property
    def manages(self) -> bool:
        return self.org is not None and self.org["management_account_id"] == self.ctx.account_id

    def _prefix(self) -> str:
        return f"arn:aws:organizations::{self.org['management_account_id']}"

    def _tagged(self, arn: str, resource_id: str, belongs: bool) -> Resource:
        owner = self.org["management_account_id"]
        if not (belongs and self.manages):
            return Resource(arn, owner)
        context = {f"aws:resourcetag/{row['key'].lower()}": [row["value"]]
                   for row in policy_store.tags_of(self.ctx.conn, resource_id)}
        return Resource(arn, owner, context)

    def root(self, root_id: str) -> Resource:
        if self.org is None:
            return Resource("*")
        arn = f"{self._prefix()}:root/{self.org['org_id']}/{root_id}"
        return self._tagged(arn, root_id, root_id == self.org["root_id"])

    def ou(self, ou_id: str) -> Resource:
        if self.org is None:
            return Resource("*")
        node = store.node(self.ctx.conn, ou_id) if OU_RE.fullmatch(ou_id) else None
        belongs = node is not None and node["kind"] == "ou" and node["org_id"] == self.org["org_id"]
        return self._tagged(f"{self._prefix()}:ou/{self.org['org_id']}/{ou_id}", ou_id, belongs)

    def account(self, account_id: str) -> Resource:
        if self.org is None:
            return Resource("*")
        member = store.membership(self.ctx.conn, account_id)
        belongs = member is not None and member["org_id"] == self.org["org_id"]
        return self._tagged(f"{self._prefix()}:account/{self.org['org_id']}/{account_id}", account_id, belongs)

    def parent(self, parent_id: str) -> Resource:
        """A root or an OU, by its id."""
        if parent_id.startswith("ou-"):
            return self.ou(parent_id)
        return self.root(parent_id)

    def target(self, target_id: str) -> Resource:
        """A root, an OU or an account, by its id."""
        if target_id.isdigit():
            return self.account(target_id)
        return self.parent(target_id)

    def tagged(self, resource_id: str) -> Resource:
        """What TagResource and its kin name: a policy, or a root, an OU or an account."""
        return self.policy(resource_id) if resource_id.startswith("p-") else self.target(resource_id)

    def policy(self, policy_id: str) -> Resource:
        """A policy: the AWS managed FullAWSAccess (awspolicy), or one of the organization's."""
        type_key = {"organizations:policytype": ["SERVICE_CONTROL_POLICY"]}
        if policy_id == FULL_AWS_ACCESS_ID:
            return Resource(FULL_AWS_ACCESS_ARN, None, type_key)
        if self.org is None:
            return Resource("*")
        row = policy_store.policy(self.ctx.conn, policy_id)
        belongs = row is not None and row["org_id"] == self.org["org_id"]
        kind = row["policy_type"].lower() if belongs else SERVICE_CONTROL_POLICY
        named = self._tagged(f"{self._prefix()}:policy/{self.org['org_id']}/{kind}/{policy_id}", policy_id, belongs)
        context = dict(named.context)
        if belongs:
            context["organizations:policytype"] = [row["policy_type"]]
        return Resource(named.arn, named.account_id, context)


def handshake(ctx, handshake_id: str) -> Resource:
    """A handshake, named for the parties to it (the invited account and the management
    account); anyone else is answered HandshakeNotFoundException, so it names nothing."""
    row = store.handshake(ctx.conn, handshake_id)
    if row is None or ctx.account_id not in (row["target_account_id"], row["management_account_id"]):
        return Resource("*")
    return Resource(f"arn:aws:organizations::{row['management_account_id']}:handshake/{row['org_id']}/invite/"
                    f"{handshake_id}", row["management_account_id"])
