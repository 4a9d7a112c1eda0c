"""Serialize results and errors as the EC2 and Query protocols' XML documents.

Element names, list wrapping and scalar formats come from the output shapes.
"""

from xml.sax.saxutils import escape

from amishare.protocol.scalars import iso8601


def _scalar(shape, value) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso8601(value)
    if kind in ("integer", "long"):
        return str(int(value))
    if kind == "blob":
        import base64

        return base64.b64encode(value).decode()
    return escape(str(value))


def _write(out: list, shape, value, name: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        out.append(f"<{name}>")
        _members(out, shape, value)
        out.append(f"</{name}>")
    elif kind == "list":
        member = shape.member
        if shape.serialization.get("flattened"):
            item_name = member.serialization.get("name", name)
            for item in value:
                _write(out, member, item, item_name)
        else:
            item_name = member.serialization.get("name", "member")
            if not value:
                out.append(f"<{name}/>")
                return
            out.append(f"<{name}>")
            for item in value:
                _write(out, member, item, item_name)
            out.append(f"</{name}>")
    elif kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out.append(f"<{name}>")
        for k, v in value.items():
            out.append("<entry>")
            _write(out, shape.key, k, key_name)
            _write(out, shape.value, v, value_name)
            out.append("</entry>")
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(shape, value)}</{name}>")


def _members(out: list, shape, value: dict) -> None:
    for member_name, member in shape.members.items():
        item = value.get(member_name)
        if item is None:
            continue
        _write(out, member, item, member.serialization.get("name", member_name))


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
        f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    ).encode()


def query_error(code: str, message: str, request_id: str, namespace: str, sender: bool) -> bytes:
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
