"""Bad input gets an AWS-style client error, never an internal error, and the error document is
always well-formed: every operation is called with nothing, with a junk value of the wrong type for
each parameter, with control characters, over-long strings and huge lists in each parameter, and
(JSON services) with bodies that are not JSON, not an object, or nested thousands deep."""

import json
import xml.etree.ElementTree as ElementTree
from urllib.parse import quote, urlencode

import pytest

from amishare.models import service_model
from amishare.services import REGISTRY, load_all
from support import send_signed

load_all()

JUNK = {"string": "ami-zzz", "integer": "-1", "long": "99999999999999999999", "boolean": "maybe",
        "timestamp": "yesterday", "double": "nan-ish", "blob": "!!"}
JSON_JUNK = {"string": 12345, "integer": "x", "long": "x", "boolean": "x", "list": "x", "structure": "x", "map": "x",
             "timestamp": "x", "blob": 5}
CONTROL = "a\x00b\x01c\x1f\x7f\ufffe"
LONG = "x" * 70000
LIST_ITEMS = 1000
DEEP = 5000


def _is_json(service):
    return service_model(service).protocol in ("json", "rest-json")


def _wire_name(service, name, member):
    key = member.serialization.get("name", name)
    return key[0].upper() + key[1:] if service_model(service).protocol == "ec2" else key


def _scalar_junk(kind):
    return JUNK.get(kind, "junk")


def _json_value(member, value):
    """`value` placed where `member` takes a string: itself, an item of a list, a value of a map."""
    kind = member.type_name
    if kind == "list":
        return [_json_value(member.member, value)]
    if kind == "map":
        return {"k": _json_value(member.value, value)}
    if kind == "structure":
        strings = [n for n, m in member.members.items() if m.type_name == "string"]
        return {strings[0]: value} if strings else {}
    return value


def _query_keys(service, name, member, prefix=""):
    """Wire keys that put a string where `member` takes one (first item, first string member)."""
    key = f"{prefix}{_wire_name(service, name, member)}"
    kind = member.type_name
    if kind == "list":
        inner = member.member
        flat = service_model(service).protocol == "ec2" or member.serialization.get("flattened")
        item = f"{key}.1" if flat else f"{key}.{inner.serialization.get('name', 'member')}.1"
        if inner.type_name == "structure":
            return [k for n, m in inner.members.items() if m.type_name == "string" for k in _query_keys(service, n, m, item + ".")][:1]
        return [item] if inner.type_name == "string" else []
    if kind == "structure":
        return [k for n, m in member.members.items() if m.type_name == "string" for k in _query_keys(service, n, m, key + ".")][:1]
    return [key] if kind == "string" else []


def _wrong_type(service, operation):
    shape = service_model(service).operation_model(operation).input_shape
    variants = []
    for name, member in (shape.members.items() if shape else ()):
        if _is_json(service):
            variants.append({name: JSON_JUNK.get(member.type_name, "x")})
        elif member.type_name in ("list", "structure", "map"):
            variants.append({f"{_wire_name(service, name, member)}.1": "junk"})
        else:
            variants.append({_wire_name(service, name, member): _scalar_junk(member.type_name)})
    return variants


def _strings(service, operation, value):
    """`value` in every string parameter, one at a time (nested ones through their first item)."""
    shape = service_model(service).operation_model(operation).input_shape
    variants = []
    for name, member in (shape.members.items() if shape else ()):
        if _is_json(service):
            variants.append({name: _json_value(member, value)})
        else:
            variants.extend({key: value} for key in _query_keys(service, name, member))
    return variants


_PLAUSIBLE = (("Image", "ami-{:017x}"), ("Snapshot", "snap-{:017x}"), ("Instance", "i-{:017x}"), ("Volume", "vol-{:017x}"),
              ("Resource", "ami-{:017x}"), ("Report", "amiur-{:017x}"), ("Owner", "{:012d}"), ("User", "{:012d}"),
              ("Account", "{:012d}"), ("Executable", "{:012d}"), ("Key", "alias/k{}"), ("Grant", "{:064x}"))


def _plausible(name: str, i: int) -> str:
    """A value of the form the parameter takes, so that a huge list gets past format checks."""
    for word, pattern in _PLAUSIBLE:
        if word in name:
            return pattern.format(i)
    return f"a*{i}"


def _huge_lists(service, operation):
    shape = service_model(service).operation_model(operation).input_shape
    variants = []
    for name, member in (shape.members.items() if shape else ()):
        if member.type_name != "list":
            continue
        if _is_json(service):
            variants.append({name: [_json_value(member.member, _plausible(name, i)) for i in range(LIST_ITEMS)]})
        else:
            key = _query_keys(service, name, member)
            if key:
                stem = key[0].rsplit(".1", 1)
                variants.append({f"{stem[0]}.{i}{stem[1]}": _plausible(name, i) for i in range(1, LIST_ITEMS + 1)})
                if name == "Filters":
                    # One filter with a thousand wildcard values.
                    values = {f"Filter.1.Value.{i}": f"a*b?{i}" for i in range(1, LIST_ITEMS + 1)}
                    variants.append({"Filter.1.Name": "name", **values})
    return variants


def _bodies(service, operation):
    """(body, description) for every request of the fuzz, encoded for the service's protocol."""
    model = service_model(service)
    variants = ([{}] + _wrong_type(service, operation) + _strings(service, operation, CONTROL)
                + _strings(service, operation, LONG) + _huge_lists(service, operation))
    if _is_json(service):
        yield from ((json.dumps(v), v) for v in variants)
        for junk in (b"{not json", b"[]", b"null", b"\xff\xfe", b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP,
                     json.dumps({"\ud800": "\udfff"}).encode()):
            yield junk, junk[:40]
        return
    envelope = {"Action": operation, "Version": model.api_version}
    for v in variants:
        yield urlencode({**envelope, **v}), v
    for junk in ({"Bad\x00Name\x01": "1"}, {"Action": operation + "\x00\x1b"}):
        yield urlencode({**envelope, **junk}), junk
    # A value that is not UTF-8, and a lone surrogate in UTF-8's CESU form.
    yield urlencode(envelope) + "&" + quote("Name") + "=%FF%ED%A0%80", "bytes"


def _well_formed(service, status, body: bytes):
    text = body.decode("utf-8")
    if _is_json(service):
        if status >= 400:
            data = json.loads(text)
            assert data["__type"] and "message" in data
        return
    root = ElementTree.fromstring(text)
    if status >= 400:
        assert root.find(".//{*}Code") is not None or root.find(".//Code") is not None


CASES = [(service, operation) for service in sorted(REGISTRY) for operation in sorted(REGISTRY[service])]


@pytest.mark.parametrize("service,operation", CASES)
def test_operation_never_fails_internally(server, alice, service, operation):
    for body, shown in _bodies(service, operation):
        status, answer = send_signed(server, alice, service, body, operation)
        assert status < 500, f"{operation} {str(shown)[:300]}: {status} {answer[:500]}"
        try:
            _well_formed(service, status, answer)
        except Exception as exc:  # report which request broke the document
            raise AssertionError(f"{operation} {str(shown)[:300]}: malformed answer {answer[:500]!r}") from exc
