"""NextToken handling: an opaque token that resumes after the last id returned."""

import base64
import hashlib
import json

from amishare.errors import AwsError
from amishare.text import unsafe_character


def fingerprint(*criteria) -> str:
    return hashlib.sha256(json.dumps(criteria, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode(after: str, criteria_fingerprint: str) -> str:
    raw = json.dumps({"a": after, "f": criteria_fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_POSITION = 1024


def decode(token: str | None, criteria_fingerprint: str, position=None, code: str = "InvalidPaginationToken"):
    """The position a token resumes after, or None for the first page. Tokens are not secret, so a
    forged one is checked like any input: `position` turns the text into what the caller resumes
    after (raising ValueError for a bad one), and every failure is a `code` error."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, fp = data["a"], data["f"]
    except Exception:
        raise AwsError(code, f"Invalid pagination token: {token[:64]}") from None
    if fp != criteria_fingerprint:
        raise AwsError(code, "The pagination token does not match the request's parameters.")
    if not isinstance(after, str) or not after or len(after) > MAX_POSITION or unsafe_character(after):
        raise AwsError(code, f"Invalid pagination token: {token[:64]}")
    if position is None:
        return after
    try:
        return position(after)
    except (ValueError, TypeError):
        raise AwsError(code, f"Invalid pagination token: {token[:64]}") from None


def check_max_results(value, low: int, high: int, conflicts_with_ids: bool = False, ids_name: str = "") -> int | None:
    if value is None:
        return None
    if conflicts_with_ids:
        raise AwsError(
            "InvalidParameterCombination",
            f"The parameter {ids_name} cannot be used with the parameter maxResults",
        )
    if not low <= value <= high:
        raise AwsError(
            "InvalidParameterValue",
            f"Value ( {value} ) for parameter maxResults is invalid. Expecting a value between {low} and {high}.",
        )
    return value


# Joins the parts of a composite key in a token: ids have no spaces, so only the last part
# (a tag key) may contain one.
_KEY_SEPARATOR = " "


def page(rows, limit: int | None, key, criteria_fingerprint: str):
    """Trim rows fetched with limit+1 and return (rows, next_token). `key` is the name of the
    column the rows are ordered by, or a tuple of names for a composite key."""
    if limit is None or len(rows) <= limit:
        return list(rows), None
    rows = list(rows[:limit])
    last = rows[-1]
    after = _KEY_SEPARATOR.join(last[k] for k in key) if isinstance(key, tuple) else last[key]
    return rows, encode(after, criteria_fingerprint)


def key_position(key):
    """How `decode` reads the position `page` wrote for `key`: as it is for one column; for a
    composite key, split into its parts, none of them empty (ValueError otherwise)."""
    if not isinstance(key, tuple):
        return None

    def parts(text: str) -> tuple:
        values = tuple(text.split(_KEY_SEPARATOR, len(key) - 1))
        if len(values) != len(key) or not all(values):
            raise ValueError(text)
        return values
    return parts
