"""One policy engine for resource policies (KMS key policies now, IAM later).

A document is validated once, when it is stored, against the grammar of the
IAM policy language (`parse`/`validate`), and compiled into `Policy`; the
evaluator only ever sees compiled policies, so nothing stored can make it
fail. Evaluation follows AWS: an explicit Deny wins, then any Allow, else the
request is implicitly denied. Principals are accounts (their root user);
conditions support the String, Arn, Numeric, Date, Bool, IpAddress, Binary and
Null operators with ForAnyValue:/ForAllValues: qualifiers and IfExists, on
context keys such as aws:PrincipalAccount, aws:PrincipalOrgID and
aws:PrincipalOrgPaths.
"""

import ipaddress
import json
import math
import operator as op
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

from amishare.errors import AwsError

ALLOW, DENY, NOT_APPLICABLE = "Allow", "Deny", "NotApplicable"
MAX_POLICY_BYTES = 32768
VERSIONS = ("2012-10-17", "2008-10-17")
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_ROOT_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):root")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ACTION = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                             "NotResource", "Condition"})

# Principal rules: a resource policy (a key policy, a role's trust policy) names its
# principals; an identity policy (IAM, a service control policy) never does.
PRINCIPAL_REQUIRED, PRINCIPAL_FORBIDDEN, PRINCIPAL_OPTIONAL = "required", "forbidden", "optional"


class MalformedPolicy(ValueError):
    pass


# --- condition operators: name -> (negated, value parser, comparison of context value and policy value)


def _text_equal(ignore_case: bool):
    if ignore_case:
        return lambda actual, expected: actual.lower() == expected.lower()
    return lambda actual, expected: actual == expected


@lru_cache(maxsize=4096)
def _wildcard(pattern: str):
    """AWS wildcards: `*` is any run of characters, `?` any one character; nothing else is special."""
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern), re.S)


def _like(actual: str, expected) -> bool:
    """`expected` is a pattern, or the regex a pattern with policy variables resolved to."""
    pattern = expected if isinstance(expected, re.Pattern) else _wildcard(expected)
    return pattern.fullmatch(actual) is not None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _date(text: str) -> float | None:
    number = _number(text)
    if number is not None:
        return number
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _ordered(parse, compare):
    def check(actual: str, expected) -> bool:
        value = parse(actual)
        return value is not None and compare(value, expected)

    return check


def _in_network(actual: str, network) -> bool:
    try:
        return ipaddress.ip_address(actual.strip()) in network
    except ValueError:
        return False


def _boolean(text: str):
    return text.lower() if text.lower() in ("true", "false") else None


_IDENTITY = str  # policy values kept as text


@dataclass(frozen=True)
class _Operator:
    negated: bool
    parse: object  # policy value (text) -> comparable, or None when the value is invalid
    matches: object  # (context value, parsed policy value) -> bool
    # A string or ARN operator: its values may hold policy variables; True when `*` and `?`
    # in them are wildcards.
    textual: bool = False
    wildcards: bool = False


def _comparisons(family: str, parse) -> dict:
    """NumericEquals, NumericNotEquals, NumericLessThan, ... for a family of ordered values."""
    relations = (("Equals", False, op.eq), ("NotEquals", True, op.eq), ("LessThan", False, op.lt),
                 ("LessThanEquals", False, op.le), ("GreaterThan", False, op.gt), ("GreaterThanEquals", False, op.ge))
    return {family + name: _Operator(negated, parse, _ordered(parse, compare)) for name, negated, compare in relations}


_OPERATORS = {
    "StringEquals": _Operator(False, _IDENTITY, _text_equal(False), True),
    "StringNotEquals": _Operator(True, _IDENTITY, _text_equal(False), True),
    "StringEqualsIgnoreCase": _Operator(False, _IDENTITY, _text_equal(True), True),
    "StringNotEqualsIgnoreCase": _Operator(True, _IDENTITY, _text_equal(True), True),
    "StringLike": _Operator(False, _IDENTITY, _like, True, True),
    "StringNotLike": _Operator(True, _IDENTITY, _like, True, True),
    "ArnEquals": _Operator(False, _IDENTITY, _like, True, True),
    "ArnLike": _Operator(False, _IDENTITY, _like, True, True),
    "ArnNotEquals": _Operator(True, _IDENTITY, _like, True, True),
    "ArnNotLike": _Operator(True, _IDENTITY, _like, True, True),
    **_comparisons("Numeric", _number),
    **_comparisons("Date", _date),
    "Bool": _Operator(False, _boolean, _ordered(_boolean, op.eq)),
    "BinaryEquals": _Operator(False, _IDENTITY, _text_equal(False)),
    "IpAddress": _Operator(False, _network, _in_network),
    "NotIpAddress": _Operator(True, _network, _in_network),
}
_QUALIFIERS = ("ForAnyValue", "ForAllValues")


# --- the compiled form


@dataclass(frozen=True)
class Condition:
    operator: str  # base name, e.g. StringEquals, or Null
    qualifier: str | None
    if_exists: bool
    key: str  # lower case: context keys are case-insensitive
    values: tuple  # parsed policy values (Templates where they hold policy variables)
    variables: bool = False  # some value holds a policy variable, resolved per request


@dataclass(frozen=True)
class Statement:
    effect: str
    principals: tuple | None  # AWS principal values; ("*",) for everyone; None when the policy names none
    not_principal: bool
    actions: tuple
    not_action: bool
    resources: tuple  # patterns (Templates where they hold policy variables)
    not_resource: bool
    conditions: tuple
    resource_variables: bool = False
    sid: str | None = None  # for explanations: which statement decided


@dataclass(frozen=True)
class Policy:
    statements: tuple


# A stored document that no longer validates (written before validation was
# complete) denies every request instead of failing it.
DENY_ALL = Policy((Statement(DENY, ("*",), False, ("*",), False, ("*",), False, ()),))


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


# --- policy variables (in Resource and in string and ARN condition values, Version 2012-10-17)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([A-Za-z0-9:/_.@+=,-]+?)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = ("*", "?", "$")  # ${*}, ${?}, ${$}: the character itself, never a wildcard


@dataclass(frozen=True)
class Template:
    """A value with policy variables: text as written (its * and ? are wildcards where the element
    allows them), escaped characters and variables. It is resolved for each request, against the
    request's context, so that one compiled policy serves every caller."""

    parts: tuple  # ("text", str) | ("char", str) | ("var", lower-case key, default or None)
    source: str


def _template(text: str):
    """`text` itself when it holds no policy variable, else its Template."""
    if "${" not in text:
        return text
    parts, at = [], 0
    for found in _VARIABLE.finditer(text):
        if found.start() > at:
            parts.append(("text", text[at:found.start()]))
        body = found.group(1)
        variable = _VARIABLE_BODY.fullmatch(body)
        if body in _ESCAPES:
            parts.append(("char", body))
        elif variable is not None:
            parts.append(("var", variable.group(1).lower(), variable.group(2)))
        else:
            parts.append(("text", found.group(0)))  # not a variable: taken as written
        at = found.end()
    if at < len(text):
        parts.append(("text", text[at:]))
    return Template(tuple(parts), text)


def _resolve(value, context: dict, wildcards: bool):
    """A value for one request: the text (or, where wildcards apply, the regex) it stands for, or
    None when a variable has no single value in the request and no default. A variable's value is
    taken literally: a `*` in a tag value is no wildcard."""
    if not isinstance(value, Template):
        return value
    pieces = []
    for part in value.parts:
        if part[0] == "var":
            found = context.get(part[1])
            if found is not None and len(found) == 1:
                pieces.append(("char", found[0]))
            elif part[2] is not None:
                pieces.append(("char", part[2]))
            else:
                return None
        else:
            pieces.append(part)
    if not wildcards:
        return "".join(text for _kind, text in pieces)
    return _pattern_of(tuple(pieces))


@lru_cache(maxsize=4096)
def _pattern_of(pieces: tuple) -> re.Pattern:
    return re.compile("".join(_wildcard(text).pattern if kind == "text" else re.escape(text)
                              for kind, text in pieces), re.S)


# --- validation


def _strings(value, what: str) -> tuple:
    """A string or a non-empty list of strings, as a tuple."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MalformedPolicy(f"{what} must not be an empty list.")
    for item in items:
        if not isinstance(item, str) or not item:
            raise MalformedPolicy(f"{what} must be a string or a list of strings.")
    return tuple(items)


def _condition_text(value, operator: str, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return value
    raise MalformedPolicy(f"The value of condition {operator} on {key} must be a string, number, boolean or a list of them.")


def _split_operator(name) -> tuple[str | None, str, bool]:
    if not isinstance(name, str):
        raise MalformedPolicy("Condition operators must be strings.")
    qualifier, base = None, name
    if ":" in name:
        qualifier, base = name.split(":", 1)
        if qualifier not in _QUALIFIERS:
            raise MalformedPolicy(f"Unknown condition qualifier: {qualifier}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base == "Null":
        if qualifier or if_exists:
            raise MalformedPolicy(f"The Null condition operator takes no qualifier or IfExists: {name}")
    elif base not in _OPERATORS:
        raise MalformedPolicy(f"Unsupported condition operator: {name}")
    return qualifier, base, if_exists


def _conditions(block, variables: bool = False) -> tuple:
    if not isinstance(block, dict) or not block:
        raise MalformedPolicy("Condition must be an object that maps condition operators to keys and values.")
    out = []
    for name, keys in block.items():
        qualifier, base, if_exists = _split_operator(name)
        if not isinstance(keys, dict) or not keys:
            raise MalformedPolicy(f"The condition {name} must map condition keys to values.")
        for key, raw in keys.items():
            if not key:
                raise MalformedPolicy(f"The condition {name} has an empty condition key.")
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise MalformedPolicy(f"The condition {name} on {key} has no values.")
            texts = [_condition_text(item, name, key) for item in items]
            if base == "Null":
                values = tuple(t.lower() for t in texts)
                if any(v not in ("true", "false") for v in values):
                    raise MalformedPolicy(f"The Null condition on {key} takes true or false.")
            elif variables and _OPERATORS[base].textual and any("${" in t for t in texts):
                values = tuple(_template(t) for t in texts)
            else:
                values = tuple(_OPERATORS[base].parse(t) for t in texts)
                if any(v is None for v in values):
                    raise MalformedPolicy(f"Invalid value for condition {name} on {key}.")
            out.append(Condition(base, qualifier, if_exists, key.lower(), values,
                                 any(isinstance(v, Template) for v in values)))
    return tuple(out)


def _principal(value, key: str) -> tuple:
    if value == "*":
        return ("*",)
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy(f"{key} must be \"*\" or an object such as {{\"AWS\": ...}}.")
    accounts: tuple = ()
    for kind, names in value.items():
        if kind not in PRINCIPAL_TYPES:
            raise MalformedPolicy(f"Invalid principal type in policy: {kind}")
        names = _strings(names, f"{key}.{kind}")
        if kind == "AWS":
            for name in names:
                if not (name == "*" or _ACCOUNT_ID.fullmatch(name) or name.startswith("arn:aws:")):
                    raise MalformedPolicy(f"Invalid principal in policy: \"AWS\" : \"{name}\"")
            accounts = names
    return accounts


def _statement(raw, principals: str, resource_required: bool = True, variables: bool = False) -> Statement:
    """One statement, compiled; `variables`: its policy's Version (2012-10-17) has policy variables."""
    if not isinstance(raw, dict):
        raise MalformedPolicy("Each statement must be a JSON object.")
    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if unknown:
        raise MalformedPolicy(f"Unknown element in statement: {unknown[0]}")
    if "Sid" in raw and not isinstance(raw["Sid"], str):
        raise MalformedPolicy("Sid must be a string.")
    if raw.get("Effect") not in (ALLOW, DENY):
        raise MalformedPolicy("Each statement needs an Effect of Allow or Deny.")
    named = [k for k in ("Principal", "NotPrincipal") if k in raw]
    if principals == PRINCIPAL_REQUIRED and not named:
        raise MalformedPolicy("A key policy statement must name a Principal.")
    if principals == PRINCIPAL_FORBIDDEN and named:
        raise MalformedPolicy("Policy document should not specify a principal.")
    if len(named) > 1:
        raise MalformedPolicy("A statement can have Principal or NotPrincipal, not both.")
    who = _principal(raw[named[0]], named[0]) if named else None
    actions, not_action = _pair(raw, "Action", "NotAction")
    for action in actions:
        if not _ACTION.fullmatch(action):
            raise MalformedPolicy(f"Invalid action: {action}")
    if "Resource" in raw or "NotResource" in raw:
        resources, not_resource = _pair(raw, "Resource", "NotResource")
    elif resource_required:
        raise MalformedPolicy("Policy statement must contain resources.")
    else:
        resources, not_resource = ("*",), False  # a trust policy or an SCP may leave it out
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise MalformedPolicy(f"Invalid resource: {resource}; it must be \"*\" or an ARN.")
    conditions = _conditions(raw["Condition"], variables) if "Condition" in raw else ()
    if variables:
        resources = tuple(_template(r) for r in resources)
    return Statement(raw["Effect"], who, named == ["NotPrincipal"], actions, not_action, resources, not_resource,
                     conditions, any(isinstance(r, Template) for r in resources), raw.get("Sid"))


def _pair(raw: dict, name: str, negated: str) -> tuple[tuple, bool]:
    if (name in raw) == (negated in raw):
        raise MalformedPolicy(f"Each statement needs exactly one of {name} or {negated}.")
    key = name if name in raw else negated
    return _strings(raw[key], key), key == negated


def validate(document, principals: str = PRINCIPAL_REQUIRED, resource_required: bool = True) -> Policy:
    """Check a decoded document against the policy grammar; return its compiled form.
    `principals` says whether statements must, may or must not name a Principal."""
    if not isinstance(document, dict):
        raise MalformedPolicy("The policy must be a JSON object.")
    unknown = sorted(set(document) - _TOP_LEVEL)
    if unknown:
        raise MalformedPolicy(f"Unknown element in policy: {unknown[0]}")
    if "Version" in document and document["Version"] not in VERSIONS:
        raise MalformedPolicy(f"Version must be one of {', '.join(VERSIONS)}.")
    if "Id" in document and not isinstance(document["Id"], str):
        raise MalformedPolicy("Id must be a string.")
    statements = document.get("Statement")
    if statements is None:
        raise MalformedPolicy("The policy has no Statement.")
    items = statements if isinstance(statements, list) else [statements]
    if not items:
        raise MalformedPolicy("Policy statement must not be empty.")
    variables = document.get("Version") == VERSIONS[0]  # older policies take ${…} as written
    return Policy(tuple(_statement(s, principals, resource_required, variables) for s in items))


def parse(text: str, principals: str = PRINCIPAL_REQUIRED, resource_required: bool = True) -> Policy:
    """Parse and validate a policy document; raise MalformedPolicy with a reason."""
    if not isinstance(text, str):
        raise MalformedPolicy("The policy must be a string.")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise MalformedPolicy(f"The policy is larger than {MAX_POLICY_BYTES} bytes.")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedPolicy("The policy is not valid JSON.") from None
    return validate(document, principals, resource_required)


@lru_cache(maxsize=256)
def load_stored(text: str, principals: str = PRINCIPAL_REQUIRED) -> Policy:
    """The compiled form of a stored document; one that no longer validates denies everything."""
    try:
        return parse(text, principals)
    except MalformedPolicy:
        return DENY_ALL


def validate_document(text: str, *, resource_policy: bool) -> dict:
    """An IAM policy document, validated: a resource policy (a role's trust policy) names
    its principals; an identity policy never does and names its resources. Raises
    AwsError MalformedPolicyDocument."""
    try:
        parse(text, PRINCIPAL_REQUIRED if resource_policy else PRINCIPAL_FORBIDDEN,
              resource_required=not resource_policy)
    except MalformedPolicy as exc:
        raise AwsError("MalformedPolicyDocument", str(exc)) from None
    return json.loads(text)


def compile_stored(document) -> Policy:
    """A decoded document of any policy kind, compiled once so it can be evaluated many times."""
    return document if isinstance(document, Policy) else _compiled(document)


def _compiled(document) -> Policy:
    """A decoded document, as stored by any policy kind, compiled; one outside the grammar denies."""
    try:
        return validate(document, PRINCIPAL_OPTIONAL, resource_required=False)
    except MalformedPolicy:
        return DENY_ALL


# --- evaluation


def _principal_matches(statement: Statement, request: Request) -> bool:
    if statement.principals is None:
        return True  # an identity policy applies to the identity it is attached to
    inside = any(
        value == "*" or value == request.account_id or value in request.principal_arns
        or ((m := _ROOT_ARN.fullmatch(value)) and m.group(1) == request.account_id)
        for value in statement.principals
    )
    return not inside if statement.not_principal else inside


def _pattern_match(patterns, value: str, ignore_case: bool = True) -> bool:
    if ignore_case:
        value = value.lower()
    return any(_like(value, p.lower() if ignore_case else p) for p in patterns)


def _resource_match(statement: Statement, request: Request) -> bool:
    if not statement.resource_variables:
        return _pattern_match(statement.resources, request.resource, ignore_case=False)
    for pattern in statement.resources:
        resolved = _resolve(pattern, request.context, True)
        if resolved is not None and _like(request.resource, resolved):
            return True
    return False


def _condition_true(condition: Condition, request: Request) -> bool:
    values = request.context.get(condition.key)
    if condition.operator == "Null":
        return any((values is None) == (wanted == "true") for wanted in condition.values)
    rule = _OPERATORS[condition.operator]
    expected_values = condition.values
    if condition.variables:
        expected_values = tuple(v for v in (_resolve(x, request.context, rule.wildcards) for x in condition.values)
                                if v is not None)
    if values is None:
        if condition.if_exists or condition.qualifier == "ForAllValues":
            return True
        return rule.negated and condition.qualifier is None

    def matches(v):
        return any(rule.matches(v, expected) for expected in expected_values)

    if condition.qualifier == "ForAllValues":
        return all((not matches(v)) if rule.negated else matches(v) for v in values)
    if condition.qualifier == "ForAnyValue":
        return any((not matches(v)) if rule.negated else matches(v) for v in values)
    hit = any(matches(v) for v in values)
    return not hit if rule.negated else hit


def _statement_applies(statement: Statement, request: Request) -> bool:
    if not _principal_matches(statement, request):
        return False
    if _pattern_match(statement.actions, request.action) == statement.not_action:
        return False
    if _resource_match(statement, request) == statement.not_resource:
        return False
    return all(_condition_true(c, request) for c in statement.conditions)


def evaluate(document, request: Request) -> str:
    """Allow, Deny or NotApplicable for a compiled Policy, or a decoded document (compiled here;
    one outside the grammar denies)."""
    compiled = document if isinstance(document, Policy) else _compiled(document)
    decision = NOT_APPLICABLE
    for statement in compiled.statements:
        if _statement_applies(statement, request):
            if statement.effect == DENY:
                return DENY
            decision = ALLOW
    return decision


def matching_statements(document, request: Request) -> list[Statement]:
    """The statements of the document that apply to the request (what evaluate() decided from)."""
    compiled = document if isinstance(document, Policy) else _compiled(document)
    return [st for st in compiled.statements if _statement_applies(st, request)]


def matching(document, request: Request) -> list[tuple[int, str]]:
    """(index, effect) of every statement of the document that applies to the request: what
    evaluate() decided from, for explanations (simulation, access analysis)."""
    compiled = document if isinstance(document, Policy) else _compiled(document)
    return [(i, st.effect) for i, st in enumerate(compiled.statements) if _statement_applies(st, request)]


def identity_statement(statement) -> Statement:
    """One statement of an identity-style document (an IAM identity policy, a service control
    policy), compiled: it names no Principal, and one that leaves Resource out covers every
    resource; policy variables apply (service control policies are all Version 2012-10-17). Raises
    MalformedPolicy for a statement outside the policy grammar."""
    return _statement(statement, PRINCIPAL_FORBIDDEN, resource_required=False, variables=True)


def identity_statement_applies(statement: dict, request: Request) -> bool:
    """Whether one statement of an identity-style document applies to the request: it applies to
    whoever the document is attached to. Raises MalformedPolicy for a statement outside the grammar."""
    bare = {k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal")}
    return _statement_applies(identity_statement(bare), request)
