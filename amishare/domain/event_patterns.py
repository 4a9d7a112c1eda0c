"""EventBridge event patterns: their grammar, checked when a rule is written, and
whether an event matches one (the content filtering EventBridge documents).

A pattern is a JSON object whose leaves are arrays of values; a field matches when
any of its values matches (an array in the event matches when any element does).
A value is a literal (string, number, boolean, null: exact match) or one object of
a comparison: prefix, suffix, anything-but, numeric, exists, cidr,
equals-ignore-case, wildcard. `$or` lists alternative patterns at any level.

Patterns are bounded as AWS bounds them (their text length, and here also their
depth, their number of values and the expansion of `$or`), and matching is linear
in the event and the pattern (wildcards included), so no pattern can make the
service do unbounded work.
"""

import ipaddress
import json
import math

from amishare.errors import AwsError

MAX_PATTERN_CHARS = 4096  # PutRule's EventPattern limit
MAX_DEPTH = 10
MAX_VALUES = 300  # comparison values in one pattern
MAX_OR_BRANCHES = 64  # alternatives `$or` may add up to
MAX_WILDCARDS = 16  # `*` in one wildcard value
NUMERIC_LIMIT = 5e9  # numeric matching covers -5.0e9 to +5.0e9

_OPERATORS = {"prefix", "suffix", "anything-but", "numeric", "exists", "cidr", "equals-ignore-case", "wildcard"}
_COMPARISONS = {"<", "<=", "=", ">", ">="}


def invalid(reason: str) -> AwsError:
    return AwsError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}")


def parse(text) -> dict:
    """The pattern `text` as a dict, or InvalidEventPatternException saying why it isn't one."""
    if not isinstance(text, str) or not text.strip():
        raise invalid("Event pattern must be a JSON object")
    if len(text) > MAX_PATTERN_CHARS:
        raise invalid(f"Event pattern is longer than {MAX_PATTERN_CHARS} characters")
    try:
        pattern = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise invalid("Filter is not a valid JSON object") from None
    if not isinstance(pattern, dict):
        raise invalid("Filter is not an object")
    budget = {"values": 0, "branches": 1}
    _check_object(pattern, 1, budget)
    return pattern


def _no_constant(name):
    raise ValueError(name)


def _check_object(pattern: dict, depth: int, budget: dict) -> None:
    if depth > MAX_DEPTH:
        raise invalid(f"Event pattern is nested more than {MAX_DEPTH} levels deep")
    if not pattern:
        raise invalid("Empty objects are not allowed")
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise invalid("Value of $or must be an array of at least 2 objects")
            budget["branches"] *= len(value)
            if budget["branches"] > MAX_OR_BRANCHES:
                raise invalid("The rule is too complex: $or combines too many alternatives")
            for branch in value:
                if not isinstance(branch, dict):
                    raise invalid("Value of $or must be an array of objects")
                _check_object(branch, depth + 1, budget)
        elif isinstance(value, dict):
            _check_object(value, depth + 1, budget)
        elif isinstance(value, list):
            if not value:
                raise invalid(f"Empty arrays are not allowed (field \"{key}\")")
            for item in value:
                _check_value(key, item, budget)
        else:
            raise invalid(f"\"{key}\" must be an object or an array")


def _check_value(key: str, item, budget: dict) -> None:
    budget["values"] += 1
    if budget["values"] > MAX_VALUES:
        raise invalid(f"The rule is too complex: more than {MAX_VALUES} values")
    if item is None or isinstance(item, (str, bool)):
        return
    if isinstance(item, (int, float)):
        _check_number(item)
        return
    if isinstance(item, list):
        raise invalid(f"Match value for \"{key}\" must be a string, number, boolean, null or object")
    if len(item) != 1:
        raise invalid(f"Only one key allowed in match expression for \"{key}\"")
    operator, operand = next(iter(item.items()))
    if operator not in _OPERATORS:
        raise invalid(f"Unrecognized match type {operator}")
    if operator == "exists":
        if not isinstance(operand, bool):
            raise invalid("exists match pattern must be either true or false.")
    elif operator in ("prefix", "suffix"):
        if isinstance(operand, dict) and set(operand) == {"equals-ignore-case"}:
            operand = operand["equals-ignore-case"]
        if not isinstance(operand, str):
            raise invalid(f"{operator} match pattern must be a string literal")
    elif operator == "equals-ignore-case":
        if not isinstance(operand, str):
            raise invalid("equals-ignore-case match pattern must be a string literal")
    elif operator == "wildcard":
        _check_wildcard(operand)
    elif operator == "cidr":
        if not isinstance(operand, str):
            raise invalid("cidr match pattern must be a string literal")
        try:
            ipaddress.ip_network(operand, strict=False)
        except ValueError:
            raise invalid(f"Nonstandard IP address: {operand}") from None
    elif operator == "numeric":
        _check_numeric(operand)
    elif operator == "anything-but":
        _check_anything_but(operand, budget)


def _check_number(value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > NUMERIC_LIMIT:
        raise invalid(f"Value must be a number between -{NUMERIC_LIMIT:.1e} and {NUMERIC_LIMIT:.1e}")


def _check_wildcard(operand) -> None:
    values = operand if isinstance(operand, list) else [operand]
    if not values:
        raise invalid("wildcard match pattern must be a string or a non-empty array of strings")
    for value in values:
        if not isinstance(value, str):
            raise invalid("wildcard match pattern must be a string literal")
        if "**" in value:
            raise invalid("Consecutive wildcard characters at pos " + str(value.index("**") + 1))
        if value.count("*") > MAX_WILDCARDS:
            raise invalid("Rule is too complex - try using fewer wildcard characters")


def _check_numeric(operand) -> None:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise invalid("Value of numeric must be an array of an operator and a number, or two of them")
    lower = upper = False
    for i in range(0, len(operand), 2):
        op, number = operand[i], operand[i + 1]
        if op not in _COMPARISONS:
            raise invalid(f"Unrecognized numeric range operator: {op}")
        _check_number(number)
        if op == "=" and len(operand) == 4:
            raise invalid("= can't be combined with another comparison")
        if op in (">", ">="):
            if lower:
                raise invalid("Bad numeric range: two lower bounds")
            lower = True
        if op in ("<", "<="):
            if upper:
                raise invalid("Bad numeric range: two upper bounds")
            upper = True
    if len(operand) == 4:
        if not (lower and upper):
            raise invalid("Bad numeric range: two bounds must be a lower and an upper one")
        low = operand[1] if operand[0] in (">", ">=") else operand[3]
        high = operand[3] if operand[0] in (">", ">=") else operand[1]
        if low >= high:
            raise invalid("Bad numeric range: the lower bound must be below the upper bound")


def _check_anything_but(operand, budget: dict) -> None:
    if isinstance(operand, dict):
        if len(operand) != 1:
            raise invalid("Only one key allowed in anything-but match expression")
        inner, value = next(iter(operand.items()))
        if inner in ("prefix", "suffix"):
            if not isinstance(value, str):
                raise invalid(f"anything-but {inner} must be a string literal")
        elif inner in ("equals-ignore-case", "wildcard"):
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) for v in values):
                raise invalid(f"anything-but {inner} must be a string or an array of strings")
            if inner == "wildcard":
                _check_wildcard(values)
        else:
            raise invalid(f"Unsupported anything-but pattern: {inner}")
        return
    values = operand if isinstance(operand, list) else [operand]
    if not values:
        raise invalid("anything-but must have at least one value")
    budget["values"] += len(values)
    if budget["values"] > MAX_VALUES:
        raise invalid(f"The rule is too complex: more than {MAX_VALUES} values")
    strings = [v for v in values if isinstance(v, str)]
    if strings and len(strings) != len(values):
        raise invalid("anything-but values must be all strings or all numbers")
    for value in values:
        if not isinstance(value, str):
            _check_number(value)


# --- matching

_MISSING = object()


def matches(pattern: dict, event: dict) -> bool:
    """Whether `event` (a parsed JSON object) matches the parsed, checked `pattern`."""
    return _match_object(pattern, event)


def _match_object(pattern: dict, node) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_match_object(branch, node) for branch in expected):
                return False
            continue
        values = _field(node, key)
        if isinstance(expected, dict):
            if not any(isinstance(v, dict) and _match_object(expected, v) for v in values):
                return False
        elif not _match_leaf(expected, values):
            return False
    return True


def _field(node, key) -> list:
    """The values of `key` in `node`, an object or an array of objects (arrays flatten)."""
    found = []
    for item in (node if isinstance(node, list) else [node]):
        if isinstance(item, dict) and key in item:
            value = item[key]
            found.extend(value if isinstance(value, list) else [value])
    return found


def _match_leaf(expected: list, values: list) -> bool:
    for rule in expected:
        if isinstance(rule, dict):
            operator, operand = next(iter(rule.items()))
            if operator == "exists":
                if (len(values) > 0) == operand:
                    return True
                continue
            if any(_compare(operator, operand, v) for v in values):
                return True
        elif any(_equal(rule, v) for v in values):
            return True
    return False


def _equal(expected, value) -> bool:
    if expected is None or isinstance(expected, bool) or isinstance(value, bool) or value is None:
        return expected is value or (expected is None and value is None)
    if isinstance(expected, str) or isinstance(value, str):
        return isinstance(expected, str) and isinstance(value, str) and expected == value
    return float(expected) == float(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(operator: str, operand, value) -> bool:
    if operator == "prefix":
        if isinstance(operand, dict):
            return isinstance(value, str) and value.casefold().startswith(operand["equals-ignore-case"].casefold())
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix":
        if isinstance(operand, dict):
            return isinstance(value, str) and value.casefold().endswith(operand["equals-ignore-case"].casefold())
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == operand.casefold()
    if operator == "wildcard":
        return isinstance(value, str) and any(wildcard_match(w, value) for w in _listed(operand))
    if operator == "numeric":
        return _is_number(value) and _in_range(operand, float(value))
    if operator == "cidr":
        return isinstance(value, str) and _in_network(operand, value)
    if operator == "anything-but":
        return _anything_but(operand, value)
    return False


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _in_range(operand: list, number: float) -> bool:
    for i in range(0, len(operand), 2):
        op, bound = operand[i], float(operand[i + 1])
        ok = {"<": number < bound, "<=": number <= bound, "=": number == bound, ">": number > bound,
              ">=": number >= bound}[op]
        if not ok:
            return False
    return True


def _in_network(cidr: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _anything_but(operand, value) -> bool:
    if isinstance(operand, dict):
        inner, spec = next(iter(operand.items()))
        if not isinstance(value, str):
            return False
        if inner == "prefix":
            return not value.startswith(spec)
        if inner == "suffix":
            return not value.endswith(spec)
        if inner == "equals-ignore-case":
            return all(value.casefold() != s.casefold() for s in _listed(spec))
        return not any(wildcard_match(w, value) for w in _listed(spec))
    excluded = _listed(operand)
    if isinstance(excluded[0], str):
        return isinstance(value, str) and value not in excluded
    return _is_number(value) and all(float(value) != float(x) for x in excluded)


def wildcard_match(pattern: str, value: str) -> bool:
    """`*` matches any run of characters (`\\*` a literal star); linear-time greedy matching
    with one backtrack point, so no pattern is exponential."""
    tokens = []  # characters, with None for a wildcard
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            tokens.append(pattern[i + 1])
            i += 2
            continue
        tokens.append(None if ch == "*" else ch)
        i += 1
    p = v = 0
    star = resume = -1
    while v < len(value):
        if p < len(tokens) and tokens[p] is not None and tokens[p] == value[v]:
            p += 1
            v += 1
        elif p < len(tokens) and tokens[p] is None:
            star, resume = p, v
            p += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            v = resume
        else:
            return False
    while p < len(tokens) and tokens[p] is None:
        p += 1
    return p == len(tokens)
