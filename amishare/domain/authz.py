"""AWS's policy evaluation logic, in one place.

Every call is decided here (through the application's authorize step), and so
are the checks the domain makes on a caller's behalf (EBS using a KMS key,
AssumeRole) and the questions of simulation and access analysis. The order is
AWS's:

1. an explicit Deny in any applicable policy (service control policies,
   identity policies, permissions boundary, session policy, resource policy)
   denies;
2. service control policies must allow (every level from the root down to the
   account) for any principal of a member account, its root user included; they
   never limit the management account;
3. in the principal's own account, an Allow from the identity side (identity
   policies, limited by the boundary and the session policy), or a resource
   policy that names the principal itself, allows; the account's root user is
   allowed everything;
4. across accounts, both sides must allow: the caller's identity side, and the
   resource policy (naming the caller or its account);
5. a resource whose policy is the only authority (a KMS key) needs its policy
   (or a grant) to allow: naming the account delegates to the identity side.
"""

import base64
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from amishare.domain import iam, organizations, policy
from amishare.domain.principal import Principal

SCP = "service control policy"
IDENTITY = "identity-based policy"
BOUNDARY = "permissions boundary"
SESSION = "session policy"
RESOURCE = "resource-based policy"
_ENCODED_AD = "amishare-authorization-message"


@dataclass(frozen=True)
class Target:
    """What a decision is about: an action on a resource, and the resource's own policy."""

    action: str
    resource: str  # ARN or "*"
    owner: str | None = None  # the resource's account, when known
    resource_policy: dict | None = None  # a parsed resource policy (key policy, trust policy)
    policy_required: bool = False  # the resource policy is the only authority (KMS keys)
    granted: bool = False  # a grant (KMS) allows the principal this action


@dataclass
class Decision:
    allowed: bool
    explicit_deny: bool = False
    decided_by: str | None = None  # the kind of policy that denied (or was missing)
    matched: list = field(default_factory=list)  # (kind, policy id or name, statement) that decided
    # With decide(explain=True): every statement that applied, {"PolicyType", "PolicyId", "Sid",
    # "Effect"}, and the KMS grants that allowed ({"PolicyType": "grant", "PolicyId": grant id}).
    because: list = field(default_factory=list)

    def reason(self, action: str) -> str:
        """AWS's words for why a request was denied ("" when it wasn't)."""
        if self.allowed:
            return ""
        kind = self.decided_by or IDENTITY
        if self.explicit_deny:
            return f"with an explicit deny in {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
        return f"because no {kind} allows the {action} action"


def request_context(conn, principal: Principal, region: str, now: float, source_ip: str | None = None,
                    secure: bool = False, extra: dict | None = None, membership=iam.UNREAD) -> dict[str, list[str]]:
    """The global condition keys of one request (lower-case keys), with those the call supplies;
    `membership`: the caller's organization, when the call has read it already."""
    context = iam.principal_context(conn, principal, now, membership)
    context["aws:requestedregion"] = [region]
    context["aws:securetransport"] = ["true" if secure else "false"]
    context["aws:viaawsservice"] = ["false"]
    if source_ip:
        context["aws:sourceip"] = [source_ip]
    if extra:
        context.update(extra)
    return context


def scp_levels(conn, principal: Principal):
    """The SCP levels that bound `principal`, or None where SCPs don't apply."""
    return organizations.scp_levels(conn, principal.account_id, principal.org_generation)


def decide(conn, principal: Principal, target: Target, context: dict, levels=None, explain: bool = False,
           grant_ids: tuple = ()) -> Decision:
    """Allow or deny `principal` the target's action on its resource. `levels` are the
    principal's SCP levels (`scp_levels`), read by the caller once per call. With `explain`,
    the decision also lists the statements (and `grant_ids`, the grants) it was made from:
    the verdict is the same either way, explaining only adds what the engine looked at."""
    decision = _decide(conn, principal, target, context, levels)
    if explain:
        decision.because = _statements_applying(conn, principal, target, context, levels) + [
            {"PolicyType": "grant", "PolicyId": grant_id, "Sid": "", "Effect": policy.ALLOW} for grant_id in grant_ids]
    return decision


def _ref(kind: str, policy_id: str, statement) -> dict:
    sid = statement.sid if isinstance(statement, policy.Statement) else (statement or {}).get("Sid")
    effect = statement.effect if isinstance(statement, policy.Statement) else (statement or {}).get("Effect")
    return {"PolicyType": kind, "PolicyId": policy_id or "", "Sid": sid or "", "Effect": effect or ""}


def _statements_applying(conn, principal: Principal, target: Target, context: dict, levels) -> list[dict]:
    """The statements of every policy `_decide` consulted that apply to the request."""
    out = []
    if levels is not None:
        _, statements = organizations.evaluate_scps(levels, target.action, target.resource, context)
        out += [_ref(SCP, s.policy_id, s.statement) for s in statements]
    request = policy.Request(principal.account_id, target.action, target.resource, context,
                             iam.principal_arns(conn, principal))
    if principal.is_root:
        out.append({"PolicyType": "root user", "PolicyId": principal.arn, "Sid": "", "Effect": policy.ALLOW})
    else:
        governing = _governing(conn, principal)
        for index, document in enumerate(governing.identity):
            out += [_ref(IDENTITY, f"identity policy {index + 1}", st) for st in policy.matching_statements(document, request)]
        for kind, limit in ((BOUNDARY, governing.boundary), (SESSION, governing.session)):
            if limit is not None:
                out += [_ref(kind, kind, st) for st in policy.matching_statements(limit, request)]
    if target.resource_policy is not None:
        out += [_ref(RESOURCE, target.resource, st) for st in policy.matching_statements(target.resource_policy, request)]
    return out


def _decide(conn, principal: Principal, target: Target, context: dict, levels) -> Decision:
    if levels is not None:
        verdict, statements = organizations.evaluate_scps(levels, target.action, target.resource, context)
        if verdict != policy.ALLOW:
            return Decision(False, verdict == policy.DENY, SCP, [(SCP, s.policy_id, s.statement) for s in statements])
    request = policy.Request(principal.account_id, target.action, target.resource, context,
                             iam.principal_arns(conn, principal))
    identity = _identity_side(conn, principal, request)
    if identity.explicit_deny:
        return identity
    if target.resource_policy is None:
        if target.policy_required and not target.granted:
            return Decision(False, False, RESOURCE)
        return identity
    by_account = policy.evaluate(target.resource_policy, request)
    if by_account == policy.DENY:
        return Decision(False, True, RESOURCE)
    if target.owner in (None, principal.account_id):
        by_name = by_account == policy.ALLOW and (
            principal.is_root or policy.evaluate(target.resource_policy, _named_only(request)) == policy.ALLOW)
        if by_name or target.granted:
            return Decision(True)  # a resource policy (or grant) naming the caller is enough in its own account
        if target.policy_required and by_account != policy.ALLOW:
            return Decision(False, False, RESOURCE)
        return identity  # the policy names the account: it delegates to the caller's own policies
    if by_account != policy.ALLOW and not target.granted:
        return Decision(False, False, RESOURCE)
    return identity


def allows(ctx, action: str, resource) -> bool:
    """Whether the caller may also do `action` on `resource` (a domain.resources.Resource), for
    an operation that acts on more than it names (DeregisterImage deleting the image's snapshots):
    the same decision as a call of that action would get."""
    levels = scp_levels(ctx.conn, ctx.principal)
    if ctx.principal.is_root and levels is None and resource.policy is None and not resource.policy_required:
        return True
    target = Target(action, resource.arn, resource.account_id, resource.policy, resource.policy_required,
                    resource.grants_allow(ctx.principal, action))
    context = {**request_context(ctx.conn, ctx.principal, ctx.region, ctx.now, ctx.source_ip, ctx.secure_transport),
               **resource.context}
    return decide(ctx.conn, ctx.principal, target, context, levels).allowed


def identity_allows(conn, principal: Principal, action: str, resource: str, context: dict | None = None) -> bool:
    """What the principal's own policies say (identity policies, boundary, session policy)."""
    context = context if context is not None else iam.principal_context(conn, principal)
    request = policy.Request(principal.account_id, action, resource, context, iam.principal_arns(conn, principal))
    return _identity_side(conn, principal, request).allowed


def _named_only(request: policy.Request) -> policy.Request:
    """The same request, matching Principal elements that name the caller itself, not its account."""
    return policy.Request("", request.action, request.resource, request.context, request.principal_arns)


@dataclass(frozen=True)
class _Governing:
    identity: tuple  # compiled identity policies
    boundary: object  # compiled permissions boundary, or None
    session: object  # compiled session policy, or None


_GOVERNING: OrderedDict = OrderedDict()
_GOVERNING_MAX = 4096
_GOVERNING_LOCK = threading.Lock()


def _governing(conn, principal: Principal) -> _Governing:
    """The compiled policies that govern a user or a role session, cached per principal and
    account policy generation (every IAM change in the account moves it, in every worker)."""
    key = None
    if principal.policy_generation is not None:
        key = (principal.unique_id, principal.access_key_id if principal.kind == "assumed-role" else None,
               principal.policy_generation)
        with _GOVERNING_LOCK:
            found = _GOVERNING.get(key)
            if found is not None:
                _GOVERNING.move_to_end(key)
                return found
    boundary, session = iam.permissions_boundary(conn, principal), iam.session_policy(conn, principal)
    governing = _Governing(tuple(policy.compile_stored(d) for d in iam.identity_policies(conn, principal)),
                           policy.compile_stored(boundary) if boundary is not None else None,
                           policy.compile_stored(session) if session is not None else None)
    if key is not None:
        with _GOVERNING_LOCK:
            _GOVERNING[key] = governing
            if len(_GOVERNING) > _GOVERNING_MAX:
                _GOVERNING.popitem(last=False)
    return governing


def _identity_side(conn, principal: Principal, request: policy.Request) -> Decision:
    """The principal's own policies: root may do everything in its account; a user or a role
    session needs an Allow from its identity policies, and from its permissions boundary and
    session policy when it has them; an explicit Deny in any of them denies."""
    if principal.is_root:
        return Decision(True)
    governing = _governing(conn, principal)
    decision = _combined(governing.identity, request)
    if decision == policy.DENY:
        return Decision(False, True, IDENTITY)
    for kind, limit in ((BOUNDARY, governing.boundary), (SESSION, governing.session)):
        if limit is None:
            continue
        bound = policy.evaluate(limit, request)
        if bound == policy.DENY:
            return Decision(False, True, kind)
        if bound != policy.ALLOW and decision == policy.ALLOW:
            return Decision(False, False, kind)
    if decision != policy.ALLOW:
        return Decision(False, False, IDENTITY)
    return Decision(True)


def _combined(documents, request: policy.Request) -> str:
    decision = policy.NOT_APPLICABLE
    for document in documents:
        verdict = policy.evaluate(document, request)
        if verdict == policy.DENY:
            return policy.DENY
        if verdict == policy.ALLOW:
            decision = policy.ALLOW
    return decision


# --- the encoded authorization failure message of EC2 refusals


def encode_message(ctx, action: str, resource: str, decision: Decision, context: dict) -> str:
    """The decision as AWS describes it to DecodeAuthorizationMessage, sealed so that only this
    service can open it."""
    document = {
        "allowed": False,
        "explicitDeny": decision.explicit_deny,
        "matchedStatements": {"items": [{"statementId": (s.get("Sid") if isinstance(s, dict) else None) or "",
                                         "effect": "DENY" if decision.explicit_deny else "ALLOW",
                                         "principals": {"items": [{"value": ctx.principal.unique_id}]},
                                         "actions": {"items": [{"value": action}]},
                                         "resources": {"items": [{"value": resource}]}}
                                        for _kind, _id, s in decision.matched]},
        "failures": {"items": []},
        "context": {
            "principal": {"id": ctx.principal.unique_id, "arn": ctx.principal.arn},
            "action": action,
            "resource": resource,
            "conditions": {"items": [{"key": key, "values": {"items": [{"value": v} for v in values]}}
                                     for key, values in sorted(context.items())]},
        },
    }
    sealed = ctx.secrets.seal(json.dumps(document, separators=(",", ":")), f"{_ENCODED_AD}:{ctx.account_id}")
    return base64.urlsafe_b64encode(sealed.encode()).decode().rstrip("=")


def decode_message(ctx, encoded: str) -> str | None:
    """The decision document of an encoded message issued in the caller's account, or None."""
    try:
        sealed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        return ctx.secrets.open(sealed, f"{_ENCODED_AD}:{ctx.account_id}")
    except Exception:  # noqa: BLE001 - anything that isn't our sealed message is simply invalid
        return None


# --- simulation: the same decision for policies given or attached, with the statements that decided


@dataclass(frozen=True)
class Source:
    """A policy as simulation reports it: its id (name or ARN), its type and its document."""

    policy_id: str
    policy_type: str  # user | group | role | aws-managed | user-managed | resource | IAM Policy | none
    document: dict


def simulate(principal: Principal, identity: list[Source], boundaries: list[Source], action: str, resource: str,
             context: dict, resource_policy: Source | None = None, resource_owner: str | None = None,
             levels=None) -> dict:
    """One EvaluationResult of IAM's simulation API, decided as `decide` decides a call: explicit
    deny anywhere, SCPs, the identity side limited by the boundary, and the resource policy."""
    request = policy.Request(principal.account_id, action, resource, context, (principal.arn,) if principal.arn else ())
    matched: list[dict] = []

    def verdict(sources: list[Source]) -> str:
        effects = set()
        for source in sources:
            for index, effect in policy.matching(source.document, request):
                matched.append(_statement_ref(source, index))
                effects.add(effect)
        return policy.DENY if policy.DENY in effects else policy.ALLOW if effects else policy.NOT_APPLICABLE

    organizations_allow = True
    if levels is not None:
        scp, _ = organizations.evaluate_scps(levels, action, resource, context)
        organizations_allow = scp == policy.ALLOW
    identity_decision = policy.ALLOW if principal.is_root else verdict(identity)
    boundary_decision = verdict(boundaries) if boundaries else policy.ALLOW
    resource_decision = verdict([resource_policy]) if resource_policy else policy.NOT_APPLICABLE
    same_account = resource_owner in (None, principal.account_id)
    identity_allows = identity_decision == policy.ALLOW and boundary_decision == policy.ALLOW
    if policy.DENY in (identity_decision, boundary_decision, resource_decision):
        outcome = "explicitDeny"
    elif not organizations_allow:
        outcome = "implicitDeny"
    elif same_account:
        outcome = "allowed" if identity_allows or resource_decision == policy.ALLOW else "implicitDeny"
    else:
        outcome = "allowed" if identity_allows and resource_decision == policy.ALLOW else "implicitDeny"
    result = {
        "EvalActionName": action, "EvalResourceName": resource, "EvalDecision": outcome,
        "MatchedStatements": matched, "MissingContextValues": [],
        "OrganizationsDecisionDetail": {"AllowedByOrganizations": organizations_allow},
    }
    if boundaries:
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": boundary_decision == policy.ALLOW}
    if resource_policy is not None:
        result["EvalDecisionDetails"] = {"IAM Policy": "allowed" if identity_allows else "implicitDeny",
                                         "Resource Policy": {policy.ALLOW: "allowed", policy.DENY: "explicitDeny"}.get(
                                             resource_decision, "implicitDeny")}
    return result


def _statement_ref(source: Source, index: int) -> dict:
    """Where the matched statement is: IAM gives line and column in the document; amishare
    gives the statement's position in the policy's Statement list (line 1, column = index + 1)."""
    return {"SourcePolicyId": source.policy_id, "SourcePolicyType": source.policy_type,
            "StartPosition": {"Line": 1, "Column": index + 1}, "EndPosition": {"Line": 1, "Column": index + 1}}
