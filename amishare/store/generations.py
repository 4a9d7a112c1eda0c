"""Generation counters: what a worker remembers across requests is keyed by one.

Every change to what such a memory holds moves its counter in the same transaction, so a
worker that reads the counter (with the caller's access key, on every request) never
uses what it remembered from before a committed change. The counters are rows of
`usage_counters` in the Region "global":

- ORGANIZATIONS, for any account ("*"): any organization's tree, membership, enabled
  policy types or service control policies changed (rare, and they decide the grantee
  set and the SCP levels of every member account at once);
- ALLOWED_IMAGES, per account: the account's Allowed AMIs settings changed in some Region.
"""

from sqlalchemy import and_, literal

from amishare.store import settings as settings_store
from amishare.store.db import transaction_memo
from amishare.store.schema import usage_counters

REGION = "global"
ANY_ACCOUNT = "*"
ORGANIZATIONS = "organizations_generation"
ALLOWED_IMAGES = "allowed_images_generation"



def counter_join(alias, account, name: str):
    """The join condition of a `usage_counters` alias to one generation row (`account` a column or a value)."""
    return and_(alias.c.account_id == account, alias.c.region == REGION, alias.c.name == literal(name))


def bump(conn, name: str, account_id: str = ANY_ACCOUNT) -> None:
    """Move a generation, once per transaction however many changes it makes."""
    moved = transaction_memo(conn).setdefault("generations_moved", set())
    if (account_id, name) in moved:
        return
    settings_store.add_to_counter(conn, account_id, REGION, name, 1)
    moved.add((account_id, name))


def changed_here(conn, name: str, account_id: str = ANY_ACCOUNT) -> bool:
    """Whether the running transaction moved that generation: what it reads since is its own,
    uncommitted, state, which must not be remembered for other requests."""
    return (account_id, name) in transaction_memo(conn).get("generations_moved", ())


def counters(alias_name: str):
    """An alias of `usage_counters`, one per generation a query joins."""
    return usage_counters.alias(alias_name)
