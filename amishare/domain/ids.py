"""Resource identifiers in AWS's formats, and their validation."""

import re
import secrets

from amishare.errors import AwsError

_HEX = "0123456789abcdef"

PREFIX_ERRORS = {
    "ami": ("InvalidAMIID.Malformed", "InvalidAMIID.NotFound"),
    "snap": ("InvalidSnapshotID.Malformed", "InvalidSnapshot.NotFound"),
    "vol": ("InvalidVolumeID.Malformed", "InvalidVolume.NotFound"),
    "i": ("InvalidInstanceID.Malformed", "InvalidInstanceID.NotFound"),
}

# Patterns are matched whole (fullmatch: `$` would accept a trailing newline) and in ASCII
# only (`\d` would accept Arabic-Indic or full-width digits).
_ID_RE = {prefix: re.compile(rf"{prefix}-(?:[0-9a-f]{{8}}|[0-9a-f]{{17}})") for prefix in PREFIX_ERRORS}
ACCOUNT_ID_RE = re.compile(r"[0-9]{12}")


def new_id(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(_HEX) for _ in range(17))


def new_account_id() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(12))


def check(prefix: str, value: str) -> str:
    if not isinstance(value, str) or not _ID_RE[prefix].fullmatch(value):
        code = PREFIX_ERRORS[prefix][0]
        raise AwsError(code, f'Invalid id: "{value}" (expecting "{prefix}-...")')
    return value


def check_all(prefix: str, values) -> list[str]:
    return [check(prefix, v) for v in values]


def not_found(prefix: str, ids) -> AwsError:
    code = PREFIX_ERRORS[prefix][1]
    ids = list(ids)
    if prefix == "ami":
        return AwsError(code, f"The image id '[{', '.join(ids)}]' does not exist")
    if prefix == "snap":
        return AwsError(code, f"The snapshot '{ids[0]}' does not exist.")
    if prefix == "vol":
        return AwsError(code, f"The volume '{ids[0]}' does not exist.")
    return AwsError(code, f"The instance ID{'s' if len(ids) > 1 else ''} '{', '.join(ids)}' do{'' if len(ids) > 1 else 'es'} not exist")


def resource_type(resource_id: str) -> str | None:
    prefix = resource_id.split("-", 1)[0]
    return {"ami": "image", "snap": "snapshot", "vol": "volume", "i": "instance"}.get(prefix)


def is_account_id(value) -> bool:
    """Exactly twelve ASCII digits."""
    return isinstance(value, str) and ACCOUNT_ID_RE.fullmatch(value) is not None
