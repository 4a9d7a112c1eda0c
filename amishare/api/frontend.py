"""One HTTP request in, one response out. This layer only authenticates (SigV4),
decodes parameters with the service's wire protocol and encodes the outcome;
what the call does and whether the principal may do it is the application's."""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from amishare.application import Application, Call, Outcome
from amishare.domain.regions import is_region
from amishare.errors import AwsError
from amishare.protocol import form, sigv4
from amishare.protocol.wire import SERVICES, Wire, guess_service

log = logging.getLogger("amishare")


@dataclass
class HttpRequest:
    method: str
    raw_path: str
    query_string: bytes
    headers: dict[str, str]
    body: bytes
    client_ip: str | None = None
    secure: bool = False


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    request_id: str
    # For the access log and metrics: the AWS error code answered, and the service and
    # (registered) operation the request was for, as far as they were known.
    error_code: str | None = None
    service: str | None = None
    operation: str | None = None
    # Further headers (the console's Set-Cookie, Location, ...).
    headers: list[tuple[str, str]] = field(default_factory=list)


class HttpApi:
    def __init__(self, application: Application):
        self.app = application
        self._wires = {name: Wire(name) for name in SERVICES}

    def handle(self, request: HttpRequest) -> Response:
        request_id = str(uuid.uuid4())
        try:
            return self._handle(request, request_id)
        except Exception:  # the last line of defence: an AWS-shaped answer, never a bare 500 page
            log.exception("request %s failed", request_id)
            wire = self._guess(request, [])
            return self._error(wire, AwsError("InternalError", "An internal error has occurred", 500, False), request_id)

    def _handle(self, request: HttpRequest, request_id: str) -> Response:
        wire = None
        try:
            url_pairs = form.split(request.query_string)
            auth_fields = form.auth_fields(url_pairs)
            parts = sigv4.extract(request.headers, auth_fields)
            wire = self._wires.get(parts.credential.service)
            if wire is None:
                wire = self._guess(request, url_pairs)
                raise sigv4.AuthError("scope", f"Credential should be scoped to correct service: '{wire.service}'.")
            self._check_scope(parts)
            sigv4.check_time(parts, datetime.now(timezone.utc))
            token = request.headers.get("x-amz-security-token", auth_fields.get("X-Amz-Security-Token"))
            identity = self.app.identities.by_access_key(parts.credential.access_key_id, token)
            if identity is None:
                raise sigv4.AuthError("unknown_key", "The security token included in the request is invalid.")
            sigv4.verify(identity.secret, parts, request.method, request.raw_path, url_pairs, request.headers, request.body)
            if identity.expired:
                raise sigv4.AuthError("expired_token", "The security token included in the request is expired")
        except sigv4.AuthError as exc:
            wire = wire or self._guess(request, [])
            code, message, status = wire.auth_error(exc.kind, exc.message)
            return Response(status, wire.content_type(), wire.error(code, message, request_id), request_id, code,
                            wire.service, headers=wire.error_headers(code))
        except AwsError as exc:
            wire = wire or self._guess(request, [])
            return self._error(wire, exc, request_id)
        return self._invoke(wire, request, url_pairs, identity.principal, parts.credential.region, request_id)

    def _invoke(self, wire: Wire, request: HttpRequest, url_pairs, principal, region: str, request_id: str) -> Response:
        operation = None
        try:
            params = form.decode(url_pairs)
            if wire.family != "json" and request.method == "POST" and _is_form(request.headers):
                params.update(form.decode(form.split(request.body)))
            name = wire.operation_name(params, request.headers, request.method, request.raw_path)
            operation = self.app.operation(wire.service, name)
            if operation is None:
                raise AwsError(*wire.unknown_operation(name))
            parsed = wire.parse(operation.name, params, request.body, request.method, request.raw_path, url_pairs)
        except AwsError as exc:
            if operation is not None:  # an authenticated call of a known operation: recorded, as AWS does
                self.app.reject(Call(principal, region, wire.service, operation.name, {}, request_id,
                                     source_ip=request.client_ip, user_agent=request.headers.get("user-agent"),
                                     secure_transport=request.secure), exc)
            return self._error(wire, exc, request_id, operation and operation.name)
        call = Call(
            principal, region, wire.service, operation.name, parsed, request_id,
            dry_run=bool(parsed.pop("DryRun", False)), source_ip=request.client_ip,
            user_agent=request.headers.get("user-agent"), secure_transport=request.secure,
        )
        outcome = self.app.invoke(call)
        return self._encode(wire, operation.name, outcome, request_id)

    def _encode(self, wire: Wire, operation: str, outcome: Outcome, request_id: str) -> Response:
        if outcome.error is not None:
            return self._error(wire, outcome.error, request_id, operation)
        try:
            body = wire.result(operation, outcome.result, request_id)
        except Exception:
            log.exception("request %s: the result could not be written", request_id)
            return self._error(wire, AwsError("InternalError", "An internal error has occurred", 500, False), request_id,
                               operation)
        return Response(wire.status(operation), wire.content_type(), body, request_id, None, wire.service, operation)

    @staticmethod
    def _error(wire: Wire, exc: AwsError, request_id: str, operation: str | None = None) -> Response:
        body = wire.error(exc.code, exc.message, request_id, exc.sender, exc.fields)
        return Response(exc.status, wire.content_type(), body, request_id, exc.code, wire.service, operation,
                        wire.error_headers(exc.code))

    @staticmethod
    def _check_scope(parts) -> None:
        region = parts.credential.region
        if not is_region(region):
            raise sigv4.AuthError("scope", f"Credential should be scoped to a valid region, not '{region}'.")
        if parts.credential.terminator != "aws4_request":
            raise sigv4.AuthError("scope", "Credential should be scoped with a valid terminator: 'aws4_request'.")

    def _guess(self, request: HttpRequest, url_pairs) -> Wire:
        """The service to answer an unauthenticated request in, without parsing its body."""
        hints = {k.decode("latin-1"): v.decode("latin-1") for k, v in url_pairs if k in (b"Action", b"Version")}
        head = request.body[:4096]
        if b"Version=2011-06-15" in head or b"Action=GetCallerIdentity" in head:
            hints.setdefault("Version", "2011-06-15")
        elif b"Version=2010-05-08" in head:
            hints.setdefault("Version", "2010-05-08")
        return self._wires[guess_service(request.headers, hints)]


def _is_form(headers: dict) -> bool:
    return headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
