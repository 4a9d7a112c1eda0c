"""The authorization step: may this principal perform this operation's action
on the resources it names? Decided here, once per call, before the handler runs."""

from amishare.errors import AwsError
from amishare.services import Operation


def authorize(ctx, operation: Operation, params: dict) -> None:
    """An account's root user may do everything in its own account; what it may do to
    another account's resources is the domain's business (launch permissions, key policies).
    Operations that authorize themselves (AssumeRole, GetCallerIdentity) are left to their handler."""
    if ctx.principal.is_root or operation.authorizes_itself:
        return
    raise AwsError(*_refusal(operation), 403)


def _refusal(operation: Operation) -> tuple[str, str]:
    code = {"ec2": "UnauthorizedOperation", "sts": "AccessDenied", "iam": "AccessDenied"}.get(
        operation.service, "AccessDeniedException")
    return code, f"You are not authorized to perform: {operation.action}"
