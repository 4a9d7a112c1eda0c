"""One place that knows each service's wire protocol: how its operation is
named in a request, how its parameters are parsed and how results and errors
are written back."""

from dataclasses import dataclass

from amishare.errors import AwsError, validation_error
from amishare.models import operation_model, service_model
from amishare.protocol import constraints, documented_limits, jsonproto, query, restjson, xml

SERVICES = ("ec2", "sts", "kms", "organizations", "iam", "rbin", "amishare", "cloudtrail", "events")

# Authentication failures, per protocol family: (code, HTTP status).
_AUTH_ERRORS = {
    "ec2": {
        "missing": ("MissingAuthenticationToken", 401),
        "malformed": ("IncompleteSignature", 400),
        "unknown_key": ("AuthFailure", 401),
        "signature": ("AuthFailure", 401),
        "expired": ("RequestExpired", 400),
        "scope": ("AuthFailure", 401),
        # EC2 answers RequestExpired for expired temporary credentials too.
        "expired_token": ("RequestExpired", 400),
    },
    "query": {
        "missing": ("MissingAuthenticationToken", 403),
        "malformed": ("IncompleteSignature", 400),
        "unknown_key": ("InvalidClientTokenId", 403),
        "signature": ("SignatureDoesNotMatch", 403),
        "expired": ("SignatureDoesNotMatch", 403),
        "scope": ("SignatureDoesNotMatch", 403),
        "expired_token": ("ExpiredToken", 403),
    },
    "json": {
        "missing": ("MissingAuthenticationTokenException", 400),
        "malformed": ("IncompleteSignatureException", 400),
        "unknown_key": ("UnrecognizedClientException", 400),
        "signature": ("InvalidSignatureException", 400),
        "expired": ("InvalidSignatureException", 400),
        "scope": ("InvalidSignatureException", 400),
        "expired_token": ("ExpiredTokenException", 403),
    },
}

_AUTH_MESSAGES = {
    ("ec2", "unknown_key"): "AWS was not able to validate the provided access credentials",
    ("ec2", "signature"): "AWS was not able to validate the provided access credentials",
    ("query", "unknown_key"): "The security token included in the request is invalid.",
    ("json", "unknown_key"): "The security token included in the request is invalid.",
    ("ec2", "expired_token"): "Request has expired.",
    ("query", "expired_token"): "The security token included in the request is expired",
    ("json", "expired_token"): "The security token included in the request is expired",
}


_JSON_VALIDATION = {"organizations": "InvalidInputException", "kms": "ValidationException",
                    "rbin": "ValidationException", "amishare": "ValidationException",
                    "cloudtrail": "InvalidParameterException",
                    "events": "ValidationException"}
# JSON services that check the model's constraints (lengths, patterns, ranges) as AWS does.
_JSON_CONSTRAINED = ("events",)


# Parameters whose malformed values a service reports with an exception of their own.
_PARAMETER_EXCEPTIONS = {"cloudtrail": (("LookupAttributes", "InvalidLookupAttributesException"),
                                        ("MaxResults", "InvalidMaxResultsException"),
                                        ("StartTime", "InvalidTimeRangeException"),
                                        ("EndTime", "InvalidTimeRangeException"),
                                        ("EventCategory", "InvalidEventCategoryException"))}


def _json_validation_code(service: str, message: str) -> str:
    for parameter, code in _PARAMETER_EXCEPTIONS.get(service, ()):
        if f"parameter {parameter}" in message:
            return code
    return _JSON_VALIDATION.get(service, "ValidationException")


@dataclass(frozen=True)
class Wire:
    service: str

    @property
    def protocol(self) -> str:
        return service_model(self.service).protocol

    @property
    def family(self) -> str:
        """json (JSON 1.x and REST-JSON: JSON bodies and errors), ec2, or query."""
        return "json" if self.protocol in ("json", "rest-json") else ("ec2" if self.protocol == "ec2" else "query")

    @property
    def rest(self) -> bool:
        return self.protocol == "rest-json"

    def operation_name(self, params: dict, headers: dict, method: str = "POST", path: str = "/") -> str | None:
        if self.rest:
            return restjson.match(self.service, method, path)[0]
        if self.family == "json":
            target = headers.get("x-amz-target", "")
            prefix, _, name = target.rpartition(".")  # CloudTrail's prefix has dots of its own
            if prefix != service_model(self.service).metadata.get("targetPrefix"):
                return None
            return name or None
        return params.get("Action")

    def parse(self, operation: str, params: dict, body: bytes, method: str = "POST", path: str = "/",
              query_pairs=()) -> dict:
        model = operation_model(self.service, operation)
        if self.family == "json":
            try:
                if self.rest:
                    return restjson.parse(model.input_shape, restjson.match(self.service, method, path)[1],
                                          query_pairs, body)
                parsed = jsonproto.parse(body, model.input_shape)
                if self.service in _JSON_CONSTRAINED:
                    constraints.check(model.input_shape, parsed)
                return parsed
            except AwsError as exc:
                if exc.code == "ValidationError":
                    raise AwsError(_JSON_VALIDATION.get(self.service, "ValidationException"), exc.message) from None
                # JSON services report malformed input with their own validation exception.
                if exc.code in ("MissingParameter", "InvalidParameterValue"):
                    raise AwsError(_json_validation_code(self.service, exc.message), exc.message) from None
                raise
        if self.family == "ec2":
            parsed = query.parse(params, model.input_shape, self.protocol)
            documented_limits.check(self.service, model.input_shape, parsed)
            return parsed
        # IAM and STS validate input against the model's constraints and report it as ValidationError.
        try:
            parsed = query.parse(params, model.input_shape, self.protocol)
        except AwsError as exc:
            if exc.code in ("MissingParameter", "InvalidParameterValue"):
                raise validation_error([exc.message]) from None
            raise
        constraints.check(model.input_shape, parsed)
        return parsed

    def status(self, operation: str) -> int:
        return restjson.status(self.service, operation) if self.rest else 200

    def error_headers(self, code: str) -> tuple:
        return (("x-amzn-errortype", code),) if self.rest else ()

    def content_type(self) -> str:
        if self.rest:
            return "application/json"
        if self.family == "json":
            return "application/x-amz-json-" + service_model(self.service).metadata.get("jsonVersion", "1.1")
        return "text/xml;charset=UTF-8"

    def result(self, operation: str, result: dict, request_id: str) -> bytes:
        model = operation_model(self.service, operation)
        if self.rest and self.status(operation) == 204:
            return b""
        if self.family == "json":
            return jsonproto.response(model, result)
        namespace = service_model(self.service).metadata.get("xmlNamespace", "")
        if self.family == "ec2":
            return xml.ec2_response(model, result, request_id, namespace.rstrip("/"))
        return xml.query_response(model, result, request_id, namespace)

    def error(self, code: str, message: str, request_id: str, sender: bool = True, fields: dict | None = None) -> bytes:
        if self.family == "json":
            return jsonproto.error(code, message, fields)
        if self.family == "ec2":
            return xml.ec2_error(code, message, request_id)
        return xml.query_error(code, message, request_id, service_model(self.service).metadata["xmlNamespace"], sender)

    def auth_error(self, kind: str, message: str) -> tuple[str, str, int]:
        code, status = _AUTH_ERRORS[self.family][kind]
        return code, _AUTH_MESSAGES.get((self.family, kind), message), status

    def unknown_operation(self, name: str | None) -> tuple[str, str]:
        if self.family == "json":
            return "UnknownOperationException", f"Unknown operation {name}"
        return "InvalidAction", f"The action {name} is not valid for this web service."


def guess_service(headers: dict, params: dict) -> str:
    """For a request that carries no credential scope, pick the service to answer in."""
    target = headers.get("x-amz-target", "")
    for service in SERVICES:
        prefix = service_model(service).metadata.get("targetPrefix")
        if prefix and target.startswith(prefix + "."):
            return service
    if params.get("Action") == "GetCallerIdentity":
        return "sts"
    for service in ("sts", "iam"):
        if params.get("Version") == service_model(service).api_version:
            return service
    return "ec2"
