"""Authorization of an operation: may this principal perform the operation's action
on the resources it names? Decided once per call, before the handler runs (the
application's `authorize` step), by the one evaluation in `domain/authz.py`; access
analysis asks the same function (`decisions`) what it would decide for another
principal, with the statements it decided from."""

from amishare.domain import access, authz
from amishare.domain.resources import Resource, request_tags
from amishare.errors import AwsError
from amishare.services import Operation

def authorize(ctx, operation: Operation, params: dict) -> None:
    for arn, decision, context in decisions(ctx, operation, params):
        if not decision.allowed:
            raise refusal(ctx, operation, arn, decision, context)


def decisions(ctx, operation: Operation, params: dict, explain: bool = False) -> list:
    """(resource ARN, authz.Decision, request context) for each resource the call names, in
    order, up to the first refusal; none when there is nothing to evaluate (an operation that
    authorizes itself, or the account's root user bound by no SCP and no resource policy)."""
    if operation.authorizes_itself:
        return []
    principal = ctx.principal
    levels = authz.scp_levels(ctx.conn, principal)
    if principal.is_root and levels is None and not operation.resource_policies:
        return []  # the account's root user, bound by no SCP and no resource policy: nothing to evaluate
    resources = operation.resources(ctx, params) if operation.resources else []
    extra = _requested_tags(params)
    if operation.context:
        extra.update(operation.context(ctx, params))
    context = authz.request_context(ctx.conn, principal, ctx.region, ctx.now, ctx.source_ip, ctx.secure_transport,
                                    extra, access.caller_org(ctx))
    out = []
    for resource in resources or [Resource("*")]:
        granting = resource.granting(principal, operation.action)
        target = authz.Target(operation.action, resource.arn, resource.account_id, resource.policy,
                              resource.policy_required, bool(granting))
        decision = authz.decide(ctx.conn, principal, target, {**context, **resource.context}, levels, explain,
                                tuple(granting))
        out.append((resource.arn, decision, context))
        if not decision.allowed:
            break
    return out


def _requested_tags(params: dict) -> dict:
    """aws:RequestTag/… and aws:TagKeys for the tags a call asks for (Tags, or TagSpecifications)."""
    tags = list(params.get("Tags") or []) if isinstance(params.get("Tags"), list) else []
    for spec in params.get("TagSpecifications") or []:
        if isinstance(spec, dict):
            tags.extend(spec.get("Tags") or [])
    return request_tags(tags)


def refusal(ctx, operation: Operation, resource: str, decision: authz.Decision, context: dict) -> AwsError:
    """The refusal in the called service's words: EC2 answers UnauthorizedOperation with an
    encoded message (decoded by sts:DecodeAuthorizationMessage), IAM and STS AccessDenied,
    JSON services AccessDeniedException."""
    action = operation.action
    said = f"User: {ctx.principal.arn} is not authorized to perform: {action} on resource: {resource} " \
           f"{decision.reason(action)}"
    if operation.service == "ec2":
        encoded = authz.encode_message(ctx, action, resource, decision, context)
        return AwsError("UnauthorizedOperation", "You are not authorized to perform this operation. "
                        f"{said}. Encoded authorization failure message: {encoded}", 403)
    if operation.service in ("iam", "sts"):
        return AwsError("AccessDenied", said, 403)
    return AwsError("AccessDeniedException", said, 400)
