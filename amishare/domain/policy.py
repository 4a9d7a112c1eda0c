"""One policy engine for resource policies (KMS key policies now, IAM later).

Evaluation follows AWS: an explicit Deny wins, then any Allow, else the
request is implicitly denied. Principals are accounts (their root user);
conditions support the String operators with ForAnyValue:/ForAllValues:
qualifiers and IfExists, on context keys such as aws:PrincipalAccount,
aws:PrincipalOrgID and aws:PrincipalOrgPaths.
"""

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from amishare.errors import AwsError

ALLOW, DENY, NOT_APPLICABLE = "Allow", "Deny", "NotApplicable"
MAX_POLICY_BYTES = 32768
_ROOT_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):root")
_STRING_OPERATORS = {
    "StringEquals": (False, False, False),  # (negated, ignore case, wildcard)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, True, False),
    "StringNotEqualsIgnoreCase": (True, True, False),
    "StringLike": (False, False, True),
    "StringNotLike": (True, False, True),
    "ArnEquals": (False, False, True),
    "ArnLike": (False, False, True),
    "ArnNotEquals": (True, False, True),
    "ArnNotLike": (True, False, True),
}


class MalformedPolicy(ValueError):
    pass


@dataclass
class Request:
    account_id: str
    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)
    # ARNs a Principal element may name the caller by, besides its account: an IAM user's
    # ARN; for a role session, the role's ARN and the session's assumed-role ARN.
    principal_arns: tuple[str, ...] = ()

    @property
    def principal_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse(text: str, require_principal: bool = True) -> dict:
    """Parse and validate a policy document; raise MalformedPolicy with a reason."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise MalformedPolicy(f"The policy is larger than {MAX_POLICY_BYTES} bytes.")
    try:
        document = json.loads(text)
    except ValueError:
        raise MalformedPolicy("The policy is not valid JSON.") from None
    if not isinstance(document, dict):
        raise MalformedPolicy("The policy must be a JSON object.")
    statements = document.get("Statement")
    if statements is None:
        raise MalformedPolicy("The policy has no Statement.")
    for statement in _as_list(statements):
        _check_statement(statement, require_principal)
    return document


def validate_document(text: str, *, resource_policy: bool) -> dict:
    """An IAM policy document, validated: a resource policy (a role's trust policy) names
    its principals; an identity policy never does and names its resources. Raises
    AwsError MalformedPolicyDocument."""
    try:
        document = parse(text, require_principal=resource_policy)
        for statement in _as_list(document["Statement"]):
            if not resource_policy and ("Principal" in statement or "NotPrincipal" in statement):
                raise MalformedPolicy("Policy document should not specify a principal.")
            if not resource_policy and "Resource" not in statement and "NotResource" not in statement:
                raise MalformedPolicy("Policy statement must contain resources.")
    except MalformedPolicy as exc:
        raise AwsError("MalformedPolicyDocument", str(exc)) from None
    if not _as_list(document["Statement"]):
        raise AwsError("MalformedPolicyDocument", "Policy statement must not be empty.")
    return document


def _check_statement(statement, require_principal: bool = True) -> None:
    if not isinstance(statement, dict):
        raise MalformedPolicy("Each statement must be a JSON object.")
    if statement.get("Effect") not in (ALLOW, DENY):
        raise MalformedPolicy("Each statement needs an Effect of Allow or Deny.")
    if require_principal and "Principal" not in statement and "NotPrincipal" not in statement:
        raise MalformedPolicy("A key policy statement must name a Principal.")
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    named = "Principal" in statement or "NotPrincipal" in statement
    if named and principal != "*" and not (isinstance(principal, dict) and principal):
        raise MalformedPolicy("Principal must be \"*\" or an object such as {\"AWS\": ...}.")
    if isinstance(principal, dict):
        for value in _as_list(principal.get("AWS")):
            if not isinstance(value, str) or not (value == "*" or re.fullmatch(r"[0-9]{12}", value) or value.startswith("arn:aws:")):
                raise MalformedPolicy(f"Invalid principal in policy: \"AWS\" : \"{value}\"")
    if "Action" not in statement and "NotAction" not in statement:
        raise MalformedPolicy("Each statement needs an Action or NotAction.")
    for action in _as_list(statement.get("Action", statement.get("NotAction"))):
        if not isinstance(action, str) or not (action == "*" or ":" in action):
            raise MalformedPolicy(f"Invalid action: {action}")
    for operator, block in (statement.get("Condition") or {}).items():
        _operator(operator)
        if not isinstance(block, dict):
            raise MalformedPolicy(f"The condition {operator} must map keys to values.")


def _operator(name: str) -> tuple[str | None, str, bool]:
    qualifier = None
    if ":" in name:
        qualifier, name = name.split(":", 1)
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise MalformedPolicy(f"Unknown condition qualifier: {qualifier}")
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name
    if base not in _STRING_OPERATORS and base not in ("Bool", "Null"):
        raise MalformedPolicy(f"Unsupported condition operator: {name}")
    return qualifier, base, if_exists


def _principal_matches(statement, request: Request) -> bool:
    if "Principal" not in statement and "NotPrincipal" not in statement:
        return True  # an identity policy applies to the identity it is attached to
    if "NotPrincipal" in statement:
        return not _principal_in(statement["NotPrincipal"], request)
    return _principal_in(statement["Principal"], request)


def _principal_in(principal, request: Request) -> bool:
    if principal == "*":
        return True
    for value in _as_list(principal.get("AWS")):
        if value == "*" or value == request.account_id or value in request.principal_arns:
            return True
        match = _ROOT_ARN.fullmatch(value)
        if match and match.group(1) == request.account_id:
            return True
    return False


def _pattern_match(patterns, value: str, ignore_case: bool = True) -> bool:
    if ignore_case:
        value = value.lower()
    return any(fnmatchcase(value, p.lower() if ignore_case else p) for p in patterns)


def _value_matches(context_value: str, policy_values, ignore_case: bool, wildcard: bool) -> bool:
    for expected in policy_values:
        expected = str(expected)
        if wildcard:
            if fnmatchcase(context_value.lower() if ignore_case else context_value,
                           expected.lower() if ignore_case else expected):
                return True
        elif (context_value.lower() == expected.lower()) if ignore_case else (context_value == expected):
            return True
    return False


def _condition_true(operator: str, key: str, policy_values, request: Request) -> bool:
    qualifier, base, if_exists = _operator(operator)
    values = request.context.get(key.lower())
    policy_values = _as_list(policy_values)
    if base == "Null":
        wants_null = str(policy_values[0]).lower() == "true"
        return (values is None) == wants_null
    if values is None:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        return _STRING_OPERATORS.get(base, (False,))[0] if qualifier is None else False
    if base == "Bool":
        return any(v.lower() == str(p).lower() for v in values for p in policy_values)
    negated, ignore_case, wildcard = _STRING_OPERATORS[base]

    def matches(v):
        return _value_matches(v, policy_values, ignore_case, wildcard)

    if qualifier == "ForAllValues":
        return all((not matches(v)) if negated else matches(v) for v in values)
    if qualifier == "ForAnyValue":
        return any((not matches(v)) if negated else matches(v) for v in values)
    hit = any(matches(v) for v in values)
    return not hit if negated else hit


def _conditions_true(statement, request: Request) -> bool:
    for operator, block in (statement.get("Condition") or {}).items():
        for key, policy_values in block.items():
            if not _condition_true(operator, key, policy_values, request):
                return False
    return True


def _statement_applies(statement, request: Request) -> bool:
    if not _principal_matches(statement, request):
        return False
    if "NotAction" in statement:
        if _pattern_match(_as_list(statement["NotAction"]), request.action):
            return False
    elif not _pattern_match(_as_list(statement["Action"]), request.action):
        return False
    resources = statement.get("Resource", "*")
    if "NotResource" in statement:
        if _pattern_match(_as_list(statement["NotResource"]), request.resource, ignore_case=False):
            return False
    elif not _pattern_match(_as_list(resources), request.resource, ignore_case=False):
        return False
    return _conditions_true(statement, request)


def evaluate(document: dict, request: Request) -> str:
    decision = NOT_APPLICABLE
    for statement in _as_list(document.get("Statement")):
        if _statement_applies(statement, request):
            if statement["Effect"] == DENY:
                return DENY
            decision = ALLOW
    return decision


def identity_statement_applies(statement: dict, request: Request) -> bool:
    """Whether one statement of an identity-style document applies to the request: an IAM
    identity policy or a service control policy names no Principal, it applies to whoever it
    is attached to. Raises MalformedPolicy for a condition operator the engine can't evaluate."""
    bare = {k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal")}
    return _statement_applies({**bare, "Principal": "*"}, request)
