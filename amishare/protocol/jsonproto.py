"""The JSON 1.0/1.1 protocol (Organizations, KMS): body parsing and serialization."""

import base64
import json

from amishare.errors import AwsError, missing_parameter
from amishare.protocol.scalars import convert, epoch_seconds
from amishare.text import printable


def parse(body: bytes, shape) -> dict:
    """The operation's input from a request body. An empty body is an empty input; anything
    else must be a JSON object, also for operations that take no input."""
    data = parse_object(body)
    return {} if shape is None else _structure(shape, data, "")


def structure(shape, data: dict) -> dict:
    """An input structure already read from JSON (REST-JSON adds the members of its path)."""
    return _structure(shape, data, "")


def parse_object(body: bytes) -> dict:
    if body and body.strip():
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise AwsError("SerializationException", "The request body is not valid JSON.") from None
    else:
        data = {}
    if not isinstance(data, dict):
        raise AwsError("SerializationException", "The request body must be a JSON object.")
    return data


def _structure(shape, data, path: str) -> dict:
    if not isinstance(data, dict):
        raise AwsError("SerializationException", f"Expected an object for {path or 'the request'}.")
    out = {}
    for name, member in shape.members.items():
        if name in data and data[name] is not None:
            out[name] = _value(member, data[name], f"{path}.{name}" if path else name)
    for required in shape.required_members:
        if required not in out:
            raise missing_parameter(f"{path}.{required}" if path else required)
    return out


def _value(shape, value, path: str):
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, value, path)
    if kind == "list":
        if not isinstance(value, list):
            raise AwsError("SerializationException", f"Expected a list for {path}.")
        if len(value) > 1000:
            raise AwsError("InvalidParameterValue", f"Too many values for {path}: at most 1000 are accepted.")
        return [_value(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"Expected a map for {path}.")
        return {_value(shape.key, k, path): _value(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    return convert(shape, value, path, from_text=False)


def _out(shape, value):
    kind = shape.type_name
    if kind == "structure":
        return {
            name: _out(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        return [_out(shape.member, item) for item in value]
    if kind == "map":
        return {k: _out(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return epoch_seconds(value)
    if kind == "blob":
        return base64.b64encode(value).decode()
    return value


def response(operation, result: dict) -> bytes:
    shape = operation.output_shape
    body = {} if shape is None else _out(shape, result)
    return json.dumps(body, separators=(",", ":")).encode()


def error(code: str, message: str, fields: dict | None = None) -> bytes:
    return json.dumps({"__type": printable(code), "message": printable(message), **(fields or {})}).encode()
