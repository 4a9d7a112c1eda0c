"""What IAM's users, groups, roles and policies share: unique ids, ARNs, names and
paths, tags, the error codes IAM answers with, and Marker/MaxItems paging."""

import json
import re
import secrets
import string

from amishare.domain import pagination
from amishare.errors import AwsError, constraint_violation, validation_error
from amishare.store import iam as store

# AWS unique ids: a four-letter prefix naming the kind, then 17 base32 characters.
USER_PREFIX, ROLE_PREFIX, GROUP_PREFIX, POLICY_PREFIX = "AIDA", "AROA", "AGPA", "ANPA"
_ID_ALPHABET = string.ascii_uppercase + "234567"
NAME_PATTERN = r"[\w+=,.@-]+"
_NAME_RE = re.compile(NAME_PATTERN, re.ASCII)
_PATH_RE = re.compile(r"/|/[\x21-\x7e]+/")
MAX_TAGS = 50
DEFAULT_MAX_ITEMS = 100


def new_unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def arn(account_id: str, kind: str, path: str, name: str) -> str:
    """arn:aws:iam::123456789012:user/division/alice"""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def row_arn(kind: str, row) -> str:
    return arn(row["account_id"], kind, row["path"], row["name"])


def as_list(value) -> list:
    """A policy element that may be one value or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def find(ctx, kind: str, name: str, lock: bool = False):
    """The account's user, group or role called `name` (any case), or NoSuchEntity."""
    row = store.entity_by_name(ctx.conn, kind, ctx.account_id, name, lock)
    if row is None:
        raise no_such_entity(f"The {kind} with name {name} cannot be found.")
    return row


# --- errors


def no_such_entity(message: str) -> AwsError:
    return AwsError("NoSuchEntity", message, 404)


def entity_exists(message: str) -> AwsError:
    return AwsError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceeded", message, 409)


def invalid_input(message: str) -> AwsError:
    return AwsError("InvalidInput", message)


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message)


def access_denied(principal_arn: str, action: str, resource: str) -> AwsError:
    return AwsError("AccessDenied", f"User: {principal_arn} is not authorized to perform: {action} on resource: "
                                    f"{resource}", 403)


# --- names and paths (the API checks them from the model too; these keep every caller honest)


def check_name(value: str, member: str, max_length: int) -> str:
    if not value or len(value) > max_length or not _NAME_RE.fullmatch(value):
        raise validation_error([constraint_violation(
            value, member, f"Member must satisfy regular expression pattern: {NAME_PATTERN} "
                           f"and have length between 1 and {max_length}")])
    return value


def check_path(value: str | None) -> str:
    value = value or "/"
    if len(value) > 512 or not _PATH_RE.fullmatch(value):
        raise validation_error([constraint_violation(
            value, "path", r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)")])
    return value


# --- tags: kept as a JSON list of [key, value]; keys are unique regardless of case


def tags_json(tags: list[dict] | None) -> str:
    return json.dumps(merge_tags([], tags or []))


def tag_list(text: str) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in json.loads(text)]


def tag_pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in json.loads(text))


def merge_tags(current: list, new: list[dict], kind: str = "User") -> list:
    """`current` ([key, value] pairs) with `new` ({Key, Value}) added or replacing keys of any case."""
    keys = [tag["Key"].lower() for tag in new]
    if len(set(keys)) != len(keys):
        raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    kept = [[k, v] for k, v in current if k.lower() not in set(keys)]
    merged = kept + [[tag["Key"], tag.get("Value", "")] for tag in new]
    if len(merged) > MAX_TAGS:
        raise limit_exceeded(f"Cannot exceed quota for TagsPer{kind}: {MAX_TAGS}.")
    return merged


def remove_tags(current: list, keys: list[str]) -> list:
    gone = {key.lower() for key in keys}
    return [[k, v] for k, v in current if k.lower() not in gone]


def page_tags(text: str, marker: str | None, max_items: int | None) -> dict:
    tags = tag_list(text)
    start = int(_after(marker, "tags") or 0)
    size = items(max_items)
    chunk = tags[start:start + size]
    more = start + size < len(tags)
    return {"Tags": chunk, "IsTruncated": more, "Marker": pagination.encode(str(start + size), "tags") if more else None}


# --- Marker / MaxItems paging over name-ordered rows


def items(max_items: int | None) -> int:
    return DEFAULT_MAX_ITEMS if max_items is None else max_items


def _after(marker: str | None, fingerprint: str) -> str | None:
    try:
        return pagination.decode(marker, fingerprint)
    except AwsError:
        raise validation_error([constraint_violation(marker, "marker", "Member must be a marker this call returned")]) \
            from None


def start_after(marker: str | None, *criteria) -> str | None:
    """The name key a Marker resumes after (Markers are only valid for the same request)."""
    return _after(marker, pagination.fingerprint(*criteria))


def page(rows, max_items: int | None, *criteria, key: str = "name_key") -> tuple[list, dict]:
    """Rows fetched with limit `items(max_items) + 1`, cut to size: (rows, {IsTruncated, Marker})."""
    size = items(max_items)
    if len(rows) <= size:
        return list(rows), {"IsTruncated": False}
    rows = list(rows[:size])
    return rows, {"IsTruncated": True, "Marker": pagination.encode(rows[-1][key], pagination.fingerprint(*criteria))}


def fetch_page(fetch, marker: str | None, max_items: int | None, *criteria) -> tuple[list, dict]:
    """One page of name-ordered rows: `fetch(after, limit)` reads them, the Marker resumes them."""
    after = start_after(marker, *criteria)
    return page(fetch(after, items(max_items) + 1), max_items, *criteria)


def compact_length(document: str) -> int:
    """A policy's size as IAM counts it for its quotas: characters other than whitespace."""
    return sum(1 for ch in document if not ch.isspace())
