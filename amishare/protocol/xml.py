"""Serialize results and errors as the EC2 and Query protocols' XML documents.

Element names, list wrapping and scalar formats come from the output shapes.
"""

import re
from urllib.parse import quote
from xml.sax.saxutils import escape

from amishare.protocol.scalars import iso8601
from amishare.text import UNSAFE_CHARACTERS, printable

# IAM writes policy documents URL-encoded (the SDKs decode members of this shape).
URL_ENCODED_SHAPES = frozenset({"policyDocumentType"})


# A character that escaping or `printable` would change: most values have none, and are written as they are.
_NOT_PLAIN = re.compile("[&<>" + UNSAFE_CHARACTERS + "]")


def _text(value) -> str:
    text = value if type(value) is str else str(value)
    if _NOT_PLAIN.search(text) is None:
        return text
    return escape(printable(text))


def _scalar_writer(shape):
    kind = shape.type_name
    if shape.name in URL_ENCODED_SHAPES:
        return lambda value: escape(quote(str(value), safe=""))
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind == "timestamp":
        return iso8601
    if kind in ("integer", "long"):
        return lambda value: str(int(value))
    if kind == "blob":
        import base64

        return lambda value: base64.b64encode(value).decode()
    return _text


# Writers are compiled once per shape: serializing a page of results then costs
# one call per element instead of a walk through botocore's shape objects.
_WRITERS: dict[int, tuple] = {}


def _writer(shape):
    cached = _WRITERS.get(id(shape))
    if cached is not None:
        return cached[1]
    kind = shape.type_name
    if kind == "structure":
        # Per member: its name, and either (its element's opening and closing tags, its scalar's
        # text) written inline, or the writer of a nested structure, list or map.
        members = []

        def write(out, value, name):
            out.append(f"<{name}>")
            for member_name, xml_name, opening, closing, text, member_writer in members:
                item = value.get(member_name)
                if item is None:
                    continue
                if text is not None:
                    out.append(opening + text(item) + closing)
                else:
                    member_writer(out, item, xml_name)
            out.append(f"</{name}>")

        _WRITERS[id(shape)] = (shape, write)
        for member_name, member in shape.members.items():
            xml_name = member.serialization.get("name", member_name)
            scalar = member.type_name not in ("structure", "list", "map")
            members.append((member_name, xml_name, f"<{xml_name}>", f"</{xml_name}>",
                            _scalar_writer(member) if scalar else None, None if scalar else _writer(member)))
        return write
    if kind == "list":
        member = shape.member
        item_writer = _writer(member)
        if shape.serialization.get("flattened"):
            flat_name = member.serialization.get("name")

            def write(out, value, name):
                for item in value:
                    item_writer(out, item, flat_name or name)
        else:
            item_name = member.serialization.get("name", "member")

            def write(out, value, name):
                if not value:
                    out.append(f"<{name}/>")
                    return
                out.append(f"<{name}>")
                for item in value:
                    item_writer(out, item, item_name)
                out.append(f"</{name}>")
    elif kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        key_writer, value_writer = _writer(shape.key), _writer(shape.value)

        def write(out, value, name):
            out.append(f"<{name}>")
            for k, v in value.items():
                out.append("<entry>")
                key_writer(out, k, key_name)
                value_writer(out, v, value_name)
                out.append("</entry>")
            out.append(f"</{name}>")
    else:
        text = _scalar_writer(shape)

        def write(out, value, name):
            out.append(f"<{name}>{text(value)}</{name}>")

    _WRITERS[id(shape)] = (shape, write)
    return write


def _members(out: list, shape, value: dict) -> None:
    for member_name, member in shape.members.items():
        item = value.get(member_name)
        if item is None:
            continue
        _writer(member)(out, item, member.serialization.get("name", member_name))


def ec2_response(operation, result: dict, request_id: str, namespace: str) -> bytes:
    name = operation.name
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}Response xmlns="{namespace}/">']
    out.append(f"<requestId>{request_id}</requestId>")
    if operation.output_shape is not None:
        _members(out, operation.output_shape, result)
    out.append(f"</{name}Response>")
    return "".join(out).encode()


def query_response(operation, result: dict, request_id: str, namespace: str) -> bytes:
    name = operation.name
    out = [f'<{name}Response xmlns="{namespace}">']
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        out.append(f"<{wrapper}>")
        _members(out, shape, result)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>")
    return "".join(out).encode()


def ec2_error(code: str, message: str, request_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{escape(printable(code))}</Code><Message>{escape(printable(message))}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    ).encode()


def query_error(code: str, message: str, request_id: str, namespace: str, sender: bool) -> bytes:
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{escape(printable(code))}</Code>'
        f"<Message>{escape(printable(message))}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
