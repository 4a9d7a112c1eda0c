"""The REST-JSON protocol (Recycle Bin): the operation is named by the HTTP method and the
path (the model's requestUri), members come from the path, the query string and a JSON body,
and errors name their code in the x-amzn-errortype header."""

import re
from functools import lru_cache
from urllib.parse import unquote

from amishare.errors import AwsError
from amishare.models import service_model
from amishare.protocol import jsonproto


@lru_cache(maxsize=None)
def _routes(service: str) -> list:
    """(method, compiled path pattern, operation name), literal paths before templated ones."""
    routes = []
    for name in service_model(service).operation_names:
        http = service_model(service).operation_model(name).http
        path = http["requestUri"].split("?", 1)[0]
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)(?:\\\+)?\\\}", r"(?P<\1>[^/]+)", re.escape(path))
        routes.append((http["method"], re.compile(pattern), name, path.count("{")))
    return sorted(routes, key=lambda r: r[3])


def match(service: str, method: str, raw_path: str):
    """(operation name, {uri name: value}) for the request, or (None, {})."""
    path = raw_path.split("?", 1)[0]
    for route_method, pattern, name, _ in _routes(service):
        found = pattern.fullmatch(path)
        if found and route_method == method:
            try:
                return name, {k: unquote(v, errors="strict") for k, v in found.groupdict().items()}
            except UnicodeDecodeError:
                raise AwsError("ValidationException", "The request path is not valid UTF-8.") from None
    return None, {}


def parse(shape, uri: dict, query_pairs, body: bytes) -> dict:
    """The input: body members from the JSON body, the others from where the model puts them."""
    if shape is None:
        return jsonproto.parse(body, None)
    data = jsonproto.parse_object(body)
    for name, member in shape.members.items():
        location, wire_name = member.serialization.get("location"), member.serialization.get("name", name)
        if location is None:
            continue
        data.pop(name, None)  # only where the model places it
        if location == "uri" and wire_name in uri:
            data[name] = uri[wire_name]
        elif location == "querystring":
            values = [v.decode("utf-8", "replace") for k, v in query_pairs if k.decode("latin-1") == wire_name]
            if values:
                data[name] = values if member.type_name == "list" else values[-1]
    return jsonproto.structure(shape, data)


def status(service: str, operation: str) -> int:
    return service_model(service).operation_model(operation).http.get("responseCode", 200)
