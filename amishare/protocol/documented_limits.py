"""Constraints AWS documents for parameters that botocore's public models leave open, checked on
every parsed request by member name, wherever the member appears in the input."""

from amishare.errors import AwsError

# member name -> (maximum length, ASCII only)
_CONSTRAINTS = {
    "ec2": {
        # "Ensuring idempotency in Amazon EC2 API requests": up to 64 ASCII characters.
        "ClientToken": (64, True),
        # Image and snapshot descriptions: up to 255 characters.
        "Description": (255, False),
    },
}


def _check_string(service: str, name: str, value: str) -> None:
    limit, ascii_only = _CONSTRAINTS[service][name]
    if len(value) > limit or (ascii_only and not value.isascii()):
        shown = value if len(value) <= 64 else value[:64] + "..."
        kind = "ASCII characters" if ascii_only else "characters"
        raise AwsError("InvalidParameterValue",
                       f"Value ({shown}) for parameter {name} is invalid. It must be at most {limit} {kind}.")


def _walk(service: str, shape, value) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        table = _CONSTRAINTS[service]
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                continue
            if name in table and isinstance(item, str):
                _check_string(service, name, item)
            elif member.type_name in ("structure", "list"):
                _walk(service, member, item)
    elif kind == "list" and isinstance(value, list) and shape.member.type_name in ("structure", "list"):
        for item in value:
            _walk(service, shape.member, item)


def check(service: str, shape, params: dict) -> None:
    """Raise InvalidParameterValue for a parameter outside a documented constraint."""
    if shape is not None and service in _CONSTRAINTS:
        _walk(service, shape, params)
