"""After an IAM change commits, every worker must stop using what it cached about the
account's policies: the change moves the account's policy generation in the same transaction."""

from amishare.domain import iam
from amishare.services import Operation


def note_policy_changes(ctx, operation: Operation, params: dict) -> None:
    if operation.service == "iam" and operation.writes:
        iam.policies_changed(ctx.conn, ctx.account_id)
