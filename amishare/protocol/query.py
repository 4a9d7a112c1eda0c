"""Parse AWS query-protocol parameters (EC2 and Query flavours) into nested dicts.

Naming follows botocore's serializers, inverted: EC2 uses `queryName`, else a
capitalised `locationName`, and numbers list items directly (`Filter.1.Value.2`);
the Query protocol uses `locationName` and wraps lists in `.member.N` unless
flattened.
"""

import re

from amishare.errors import AwsError, missing_parameter
from amishare.protocol.scalars import convert

# Parameters that are part of the envelope or the signature, not of any operation.
ENVELOPE = frozenset({"Action", "Version"})
SIGNATURE_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
)


# No input shape nests deeper than this many dotted parts (Tag.1.Key is three).
MAX_KEY_PARTS = 32


class _Params:
    __slots__ = ("values", "children", "used")

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.used: set[str] = set()
        children: dict[str, set[str]] = {}
        for key in values:
            parts = key.split(".", MAX_KEY_PARTS)
            if len(parts) > MAX_KEY_PARTS:
                continue  # deeper than any shape: never used, so reported as an unknown parameter
            for depth in range(len(parts)):
                parent = ".".join(parts[:depth])
                children.setdefault(parent, set()).add(parts[depth])
        self.children = children

    def present(self, key: str) -> bool:
        return key in self.values or key in self.children


def _ec2_name(shape, default: str) -> str:
    ser = shape.serialization
    if "queryName" in ser:
        return ser["queryName"]
    if "name" in ser:
        name = ser["name"]
        return name[0].upper() + name[1:]
    return default


def _query_name(shape, default: str) -> str:
    return shape.serialization.get("name", default)


def parse(values: dict[str, str], shape, flavor: str) -> dict:
    """Parse `values` against the operation's input `shape`; reject what the shape doesn't know."""
    params = _Params(values)
    result = {} if shape is None else _structure(params, shape, "", flavor)
    leftover = [k for k in values if k not in params.used and k not in ENVELOPE and k not in SIGNATURE_PARAMS]
    if leftover:
        leftover.sort()
        name = leftover[0] if len(leftover[0]) <= 128 else leftover[0][:128] + "..."
        raise AwsError("UnknownParameter", f"The parameter {name} is not recognized")
    return result


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _value(params: _Params, shape, key: str, flavor: str):
    kind = shape.type_name
    if kind == "structure":
        return _structure(params, shape, key, flavor)
    if kind == "list":
        return _list(params, shape, key, flavor)
    if kind == "map":
        return _map(params, shape, key, flavor)
    if key not in params.values:
        # Only nested keys were sent for a scalar: they are unknown parameters.
        return None
    params.used.add(key)
    return convert(shape, params.values[key], key, from_text=True)


# Per (structure shape, flavor): its members as (name, parameter name, shape), and the required
# ones as (name, parameter name): worked out once, not for every request.
_STRUCTURES: dict[tuple, tuple] = {}


def _members(shape, flavor: str) -> tuple:
    key = (id(shape), flavor)
    found = _STRUCTURES.get(key)
    if found is None or found[0] is not shape:
        namer = _ec2_name if flavor == "ec2" else _query_name
        members = tuple((name, namer(member, name), member) for name, member in shape.members.items())
        required = tuple((name, namer(shape.members[name], name)) for name in shape.required_members)
        found = _STRUCTURES[key] = (shape, members, required)
    return found[1], found[2]


def _structure(params: _Params, shape, prefix: str, flavor: str) -> dict:
    out = {}
    members, required = _members(shape, flavor)
    for name, wire_name, member in members:
        key = _join(prefix, wire_name)
        if params.present(key):
            value = _value(params, member, key, flavor)
            if value is not None:
                out[name] = value
    for name, wire_name in required:
        if name not in out:
            raise missing_parameter(_join(prefix, wire_name))
    return out


MAX_LIST_ITEMS = 1000
_INDEX_RE = re.compile(r"[1-9][0-9]*")  # ASCII only: str.isdigit() also takes "²" or "٣"


def _indices(params: _Params, prefix: str) -> list[int]:
    found = []
    for part in params.children.get(prefix, ()):
        if not _INDEX_RE.fullmatch(part):
            raise AwsError("InvalidParameterValue", f"Invalid list index in parameter {prefix}.{part}")
        found.append(int(part))
    if len(found) > MAX_LIST_ITEMS:
        raise AwsError("InvalidParameterValue", f"Too many values for {prefix}: at most {MAX_LIST_ITEMS} are accepted.")
    found.sort()
    return found


def _list(params: _Params, shape, key: str, flavor: str) -> list:
    if key in params.values:
        params.used.add(key)
        if params.values[key] == "":
            return []
        if flavor == "ec2":
            # A bare value for a list of scalars: treat as a one-element list.
            return [convert(shape.member, params.values[key], key, from_text=True)]
    if flavor == "ec2" or shape.serialization.get("flattened"):
        item_prefix = key
    else:
        item_prefix = f"{key}.{shape.member.serialization.get('name', 'member')}"
    items = []
    for index in _indices(params, item_prefix):
        item = _value(params, shape.member, f"{item_prefix}.{index}", flavor)
        if item is not None:
            items.append(item)
    return items


def _map(params: _Params, shape, key: str, flavor: str) -> dict:
    entry_prefix = key if shape.serialization.get("flattened") else f"{key}.entry"
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out = {}
    for index in _indices(params, entry_prefix):
        base = f"{entry_prefix}.{index}"
        k = _value(params, shape.key, f"{base}.{key_name}", flavor)
        if k is None:
            raise missing_parameter(f"{base}.{key_name}")
        out[k] = _value(params, shape.value, f"{base}.{value_name}", flavor)
    return out
