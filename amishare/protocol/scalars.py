"""Conversion and validation of scalar values, shared by every protocol parser."""

import base64
import binascii
import math
from datetime import datetime, timezone

from amishare.errors import AwsError
from amishare.parsing import DECIMAL_RE, INTEGER_RE, from_epoch, parse_timestamp
from amishare.text import printable, unsafe_character

MAX_STRING = 65536

# Enums EC2 reports with operation-specific errors (e.g. InvalidAMIAttributeItemValue);
# the domain validates these itself.
DOMAIN_VALIDATED_ENUMS = frozenset({"PermissionGroup"})


def _bad(name: str, value, expected: str) -> AwsError:
    shown = str(value)
    if len(shown) > 64:
        shown = shown[:64] + "..."
    return AwsError("InvalidParameterValue", f"Value ({shown}) for parameter {name} is invalid. Expected: '{expected}'.")


def convert(shape, value, name: str, from_text: bool):
    """Return the Python value of `value` for `shape`, or raise InvalidParameterValue.

    `from_text` is true for query-string parameters, where every value is a string.
    """
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            raise _bad(name, value, "String")
        bad = unsafe_character(value)
        if bad is not None:
            raise AwsError("InvalidParameterValue",
                           f"Value for parameter {name} contains a character that is not allowed: {printable(bad)}")
        limit = shape.metadata.get("max", MAX_STRING)
        if len(value) > limit:
            raise AwsError("InvalidParameterValue", f"Value for parameter {name} is too long (at most {limit} characters).")
        if len(value) < shape.metadata.get("min", 0):
            raise AwsError("InvalidParameterValue", f"Value for parameter {name} is too short.")
        if shape.enum and value not in shape.enum and shape.name not in DOMAIN_VALIDATED_ENUMS:
            raise AwsError(
                "InvalidParameterValue",
                f"Value ({value[:64]}) for parameter {name} is invalid. Valid values: {', '.join(shape.enum)}",
            )
        return value
    if kind in ("integer", "long"):
        if from_text:
            if not isinstance(value, str) or not INTEGER_RE.fullmatch(value):
                raise _bad(name, value, "Integer")
            number = int(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise _bad(name, value, "Integer")
        else:
            number = value
        if abs(number) > 2**63 - 1 or (kind == "integer" and abs(number) > 2**31 - 1):
            raise _bad(name, value, "Integer")
        return number
    if kind == "boolean":
        if from_text:
            lowered = value.lower() if isinstance(value, str) else ""
            if lowered not in ("true", "false"):
                raise _bad(name, value, "Boolean")
            return lowered == "true"
        if not isinstance(value, bool):
            raise _bad(name, value, "Boolean")
        return value
    if kind in ("double", "float"):
        if isinstance(value, str) and DECIMAL_RE.fullmatch(value):
            number = float(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not from_text:
            number = float(value)
        else:
            raise _bad(name, value, "Double")
        if not math.isfinite(number):
            raise _bad(name, value, "Double")
        return number
    if kind == "timestamp":
        return _timestamp(value, name)
    if kind == "blob":
        if not isinstance(value, str):
            raise _bad(name, value, "Blob")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(name, value, "Base64-encoded binary data") from None
    raise _bad(name, value, kind)


def _timestamp(value, name: str) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = from_epoch(value)
    elif isinstance(value, str):
        moment = parse_timestamp(value)
    else:
        moment = None
    if moment is None:
        raise _bad(name, value, "Timestamp")
    return moment


def iso8601(value) -> str:
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        return value
    value = value.astimezone(timezone.utc)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}.{value.microsecond // 1000:03d}Z")


def epoch_seconds(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return value.timestamp()
