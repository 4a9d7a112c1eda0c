"""Declarative policies for EC2 (Organizations policy type DECLARATIVE_POLICY_EC2): their
language, how the policies attached down an account's path in the tree combine into its
effective policy, and what that policy decides for EC2.

The language is that of every Organizations management policy type: a JSON document under a
fixed key (`ec2_attributes`), whose settings carry inheritance operators instead of values:

- `@@assign` sets a setting (a list replaces the inherited list), `@@append` adds to an
  inherited list, `@@remove` takes values out of it; the last two are for list settings only;
- `@@operators_allowed_for_child_policies` on any object limits the operators that policies
  attached further down the tree may use there and below (`@@all`, the default; some of
  `@@assign`/`@@append`/`@@remove`; or `@@none`). A child policy can't widen a limit it
  inherits, and an operator it isn't allowed to use is ignored in its effective policy.
- `@@enforced_for` belongs to tag policies only and is refused here.

The effective policy is computed from the root down through each OU to the account; the
policies attached at one level are applied in policy id order. It applies to every account
of the organization, the management account included (unlike SCPs), in every Region.

Of the EC2 attributes, `image_block_public_access`, `snapshot_block_public_access` and
`allowed_images_settings` are enforced here: an attribute whose effective policy sets its
`state` is managed by the policy (`ManagedBy: declarative-policy`), the account's own setting
is kept underneath and is what applies again once no policy sets it. `serial_console_access`,
`instance_metadata_defaults` and `vpc_block_public_access` are validated as AWS validates them
and shown in the effective policy, but amishare has no serial console, instance metadata
service or VPCs for them to act on.
"""

import json
import re
from dataclasses import dataclass, field

from amishare.domain import ids
from amishare.errors import AwsError
from amishare.store import org_policies as policy_store
from amishare.store import organizations as org_store

POLICY_TYPE = "DECLARATIVE_POLICY_EC2"
MAX_CHARS = 10000
ROOT_KEY = "ec2_attributes"
DEFAULT_MESSAGE = "This action is denied due to an organizational policy in effect"

ASSIGN, APPEND, REMOVE = "@@assign", "@@append", "@@remove"
CHILD_OPERATORS = "@@operators_allowed_for_child_policies"
VALUE_OPERATORS = (ASSIGN, APPEND, REMOVE)
ALL, NONE = "@@all", "@@none"
MAX_CRITERIA = 10
MAX_INT = 2147483647

_NAME_RE = re.compile(r"[A-Za-z0-9()\[\]./\-'@_*? ]{1,128}")
_PRODUCT_CODE_RE = re.compile(r"[A-Za-z0-9]{1,25}")
_PROVIDER_ALIASES = {"amazon": "amazon", "aws_marketplace": "aws-marketplace", "aws_backup_vault": "aws-backup-vault"}


def _malformed(detail: str) -> AwsError:
    return AwsError("MalformedPolicyDocumentException",
                    f"The provided policy document does not meet the requirements of the specified policy type. {detail}")


# --- the schema: containers (dicts of children) and settings (Single / Many)


@dataclass(frozen=True)
class Single:
    """A setting with one value; `check(value)` says whether a value is valid."""
    check: object
    expected: str


@dataclass(frozen=True)
class Many:
    """A list setting: each item checked by `check`, at most `limit` of them."""
    check: object
    expected: str
    limit: int


def _one_of(*values):
    return Single(lambda v: v in values, " | ".join(values))


def _integer(low, high):
    def check(value):
        if isinstance(value, bool):
            return False
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,10}", value):
            value = int(value)
        return isinstance(value, int) and low <= value <= high
    return Single(check, f"an integer from {low} to {high}")


def _provider(value) -> bool:
    return isinstance(value, str) and (value in _PROVIDER_ALIASES or ids.is_account_id(value))


def _image_name(value) -> bool:
    return isinstance(value, str) and bool(_NAME_RE.fullmatch(value)) and ("?" not in value or len(value) >= 3)


_CRITERION = {
    "allowed_image_providers": Many(_provider, "amazon, aws_marketplace, aws_backup_vault or 12-digit account ids", 200),
    "image_names": Many(_image_name, "image names of 1 to 128 characters", 50),
    "marketplace_product_codes": Many(lambda v: isinstance(v, str) and bool(_PRODUCT_CODE_RE.fullmatch(v)),
                                      "product codes of 1 to 25 letters and digits", 50),
    "creation_date_condition": {"maximum_days_since_created": _integer(0, MAX_INT)},
    "deprecation_time_condition": {"maximum_days_since_deprecated": _integer(0, MAX_INT)},
}
_ON_OFF = ("no_preference", "enabled", "disabled")
SCHEMA = {
    "exception_message": Single(lambda v: isinstance(v, str) and 0 < len(v) <= 1024, "a message of 1 to 1024 characters"),
    "image_block_public_access": {"state": _one_of("unblocked", "block_new_sharing")},
    "snapshot_block_public_access": {"state": _one_of("unblocked", "block_new_sharing", "block_all_sharing")},
    "allowed_images_settings": {
        "state": _one_of("enabled", "disabled", "audit_mode"),
        "image_criteria": {f"criteria_{n}": _CRITERION for n in range(1, MAX_CRITERIA + 1)},
    },
    "serial_console_access": {"status": _one_of("enabled", "disabled")},
    "instance_metadata_defaults": {
        "http_tokens": _one_of("no_preference", "required", "optional"),
        "http_put_response_hop_limit": _integer(-1, 64),
        "http_endpoint": _one_of(*_ON_OFF),
        "instance_metadata_tags": _one_of(*_ON_OFF),
    },
    "vpc_block_public_access": {
        "internet_gateway_block": {
            "mode": _one_of("off", "block_ingress", "block_bidirectional"),
            "exclusions_allowed": _one_of("enabled", "disabled"),
        },
    },
}


# --- validation


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise _malformed(f"The element {key} appears more than once in one object.")
    return dict(pairs)


def _check_child_operators(path, value) -> None:
    allowed = {ALL, NONE, *VALUE_OPERATORS}
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in allowed for v in value):
        raise _malformed(f"{path}: {CHILD_OPERATORS} takes a list of @@all, @@none, @@assign, @@append or @@remove.")
    if (ALL in value or NONE in value) and len(value) > 1:
        raise _malformed(f"{path}: @@all and @@none can't be combined with other operators.")


def _check_setting(path, schema, node) -> None:
    if not isinstance(node, dict):
        raise _malformed(f"{path}: a setting takes an object of inheritance operators, such as "
                         f"{{\"{ASSIGN}\": ...}}.")
    for key, value in node.items():
        if key == CHILD_OPERATORS:
            _check_child_operators(path, value)
        elif key == ASSIGN and isinstance(schema, Single):
            if not schema.check(value):
                raise _malformed(f"{path}: invalid value {json.dumps(value)[:80]}; expected {schema.expected}.")
        elif key in VALUE_OPERATORS and isinstance(schema, Many):
            if not isinstance(value, list) or not all(schema.check(v) for v in value):
                raise _malformed(f"{path}: {key} takes a list of {schema.expected}.")
            if len(value) > schema.limit:
                raise _malformed(f"{path}: at most {schema.limit} values.")
        elif key in VALUE_OPERATORS:
            raise _malformed(f"{path}: {key} applies only to settings that take a list of values.")
        elif key == "@@enforced_for":
            raise _malformed(f"{path}: @@enforced_for is an operator of tag policies only.")
        else:
            raise _malformed(f"{path}: unsupported element {key}.")


def _check_container(path, schema: dict, node) -> None:
    if not isinstance(node, dict):
        raise _malformed(f"{path} must be a JSON object.")
    for key, value in node.items():
        where = f"{path}.{key}"
        if key == CHILD_OPERATORS:
            _check_child_operators(path, value)
        elif key in VALUE_OPERATORS or key == "@@enforced_for":
            raise _malformed(f"{path}: {key} can't be used on {path}; use it on one of its settings.")
        elif key not in schema:
            raise _malformed(f"Unsupported attribute: {where}.")
        elif isinstance(schema[key], dict):
            _check_container(where, schema[key], value)
        else:
            _check_setting(where, schema[key], value)


def parse(content: str) -> dict:
    """Validate a declarative policy for EC2 as Organizations does; the parsed document."""
    if len(content) > MAX_CHARS:
        raise AwsError("ConstraintViolationException",
                       f"You have exceeded the maximum policy size ({MAX_CHARS} characters).",
                       fields={"Reason": "POLICY_CONTENT_LIMIT_EXCEEDED"})
    try:
        document = json.loads(content, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        raise _malformed("The policy is not valid JSON; it must be one JSON object.") from None
    if not isinstance(document, dict) or set(document) != {ROOT_KEY}:
        raise _malformed(f"A declarative policy for EC2 is one JSON object with the single key {ROOT_KEY}.")
    _check_container(ROOT_KEY, SCHEMA, document[ROOT_KEY])
    return document


# --- inheritance


def _allowed(limits: dict, path: tuple, operator: str) -> bool:
    """Whether the limits set at higher levels on `path` or any object above it allow `operator`."""
    for depth in range(len(path) + 1):
        allowed = limits.get(path[:depth])
        if allowed is not None and operator not in allowed:
            return False
    return True


def _merge(effective: dict, limits: dict, new_limits: dict, path: tuple, node: dict) -> None:
    for key, value in node.items():
        if key == CHILD_OPERATORS:
            allowed = set(VALUE_OPERATORS) if ALL in value else set() if NONE in value else set(value)
            new_limits[path] = new_limits.get(path, set(VALUE_OPERATORS)) & allowed
        elif key in VALUE_OPERATORS:
            if not _allowed(limits, path, key):
                continue  # an operator the parents don't allow here is ignored
            parent = effective
            for part in path[:-1]:
                parent = parent.setdefault(part, {})
            leaf = path[-1]
            if key == ASSIGN:
                parent[leaf] = list(value) if isinstance(value, list) else value
            elif key == APPEND:
                current = parent.get(leaf) if isinstance(parent.get(leaf), list) else []
                parent[leaf] = current + [v for v in value if v not in current]
            elif isinstance(parent.get(leaf), list):
                parent[leaf] = [v for v in parent[leaf] if v not in value]
        elif isinstance(value, dict):
            _merge(effective, limits, new_limits, path + (key,), value)


def effective_document(levels: list[list[dict]]) -> dict:
    """The effective policy of `levels` (from the root down, each the parsed documents attached
    there in order): the settings with their values, without operators."""
    effective: dict = {}
    limits: dict = {}
    for documents in levels:
        new_limits: dict = {}
        for document in documents:
            _merge(effective, limits, new_limits, (), document)
        for path, allowed in new_limits.items():
            limits[path] = limits.get(path, set(VALUE_OPERATORS)) & allowed
    return effective


@dataclass(frozen=True)
class Effective:
    """What an account's effective declarative policy decides; None where it decides nothing."""
    document: dict = field(default_factory=dict)
    last_updated: float | None = None

    def _attribute(self, name) -> dict:
        attribute = self.document.get(ROOT_KEY, {}).get(name)
        return attribute if isinstance(attribute, dict) else {}

    @property
    def message(self) -> str:
        return self.document.get(ROOT_KEY, {}).get("exception_message") or DEFAULT_MESSAGE

    @property
    def image_block_public_access(self) -> str | None:
        state = self._attribute("image_block_public_access").get("state")
        return state.replace("_", "-") if state else None

    @property
    def snapshot_block_public_access(self) -> str | None:
        state = self._attribute("snapshot_block_public_access").get("state")
        return state.replace("_", "-") if state else None

    @property
    def allowed_images(self) -> tuple[str, list[dict]] | None:
        """(state, image criteria in the EC2 API's shape), when the policy sets the state."""
        attribute = self._attribute("allowed_images_settings")
        if not attribute.get("state"):
            return None
        criteria = attribute.get("image_criteria") or {}
        ordered = sorted(criteria.items(), key=lambda item: int(item[0].rsplit("_", 1)[1]))
        shaped = [c for c in (_api_criterion(value) for _, value in ordered) if c]
        return attribute["state"].replace("_", "-"), shaped


def _api_criterion(criterion: dict) -> dict:
    out = {}
    if criterion.get("allowed_image_providers"):
        out["ImageProviders"] = [_PROVIDER_ALIASES.get(p, p) for p in criterion["allowed_image_providers"]]
    if criterion.get("image_names"):
        out["ImageNames"] = list(criterion["image_names"])
    if criterion.get("marketplace_product_codes"):
        out["MarketplaceProductCodes"] = list(criterion["marketplace_product_codes"])
    created = (criterion.get("creation_date_condition") or {}).get("maximum_days_since_created")
    if created is not None:
        out["CreationDateCondition"] = {"MaximumDaysSinceCreated": int(created)}
    deprecated = (criterion.get("deprecation_time_condition") or {}).get("maximum_days_since_deprecated")
    if deprecated is not None:
        out["DeprecationTimeCondition"] = {"MaximumDaysSinceDeprecated": int(deprecated)}
    return out


NOTHING = Effective()


def effective_for(conn, account_id: str) -> Effective | None:
    """The effective declarative policy for EC2 of an account, read live from the tree; None
    when none applies (no organization, the type not enabled, nothing attached on its path).
    Two indexed reads whatever the size of the organization."""
    scope = org_store.account_org(conn, account_id, POLICY_TYPE)
    if scope is None or scope["type_status"] is None:
        return None
    targets = [part for part in scope["path"].split("/") if part] + [account_id]
    levels: dict[str, list[dict]] = {target: [] for target in targets}
    attached = policy_store.attached_on_path(conn, scope["org_id"], targets, POLICY_TYPE, with_times=True)
    if not attached:
        return None
    last = None
    for target_id, _policy_id, content, attached_at, changed_at in attached:
        levels[target_id].append(json.loads(content))
        last = max(t for t in (last, attached_at, changed_at) if t is not None)
    return Effective(effective_document([levels[t] for t in targets]), last)


def effective(ctx, account_id: str | None = None) -> Effective:
    """The caller's (or `account_id`'s) effective policy, read once per call."""
    account_id = account_id or ctx.account_id
    key = ("declarative", account_id)
    if key not in ctx.memo:
        ctx.memo[key] = effective_for(ctx.conn, account_id) or NOTHING
    return ctx.memo[key]


def refuse_change(ctx) -> AwsError:
    """What EC2 answers an account that changes an attribute a declarative policy manages."""
    return AwsError("OperationNotPermitted", effective(ctx).message)
