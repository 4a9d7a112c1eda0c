"""The request pipeline: authenticate, route, parse, run in one transaction, serialize."""

import logging
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from sqlalchemy.exc import IntegrityError, OperationalError

from amishare.config import Settings
from amishare.domain import accounts
from amishare.domain.context import Caller, Ctx
from amishare.domain.regions import is_region
from amishare.domain.secretbox import SecretBox
from amishare.errors import AwsError, DryRunSucceeded
from amishare.protocol import sigv4
from amishare.protocol.wire import SERVICES, Wire, guess_service
from amishare.services import REGISTRY, load_all
from amishare.store.db import Store

log = logging.getLogger("amishare")
MAX_BODY = 10 * 1024 * 1024


class Response:
    __slots__ = ("status", "content_type", "body", "request_id")

    def __init__(self, status: int, content_type: str, body: bytes, request_id: str):
        self.status = status
        self.content_type = content_type
        self.body = body
        self.request_id = request_id


class Dispatcher:
    def __init__(self, store: Store, settings: Settings, box: SecretBox):
        load_all()
        self.store = store
        self.settings = settings
        self.box = box
        self._keys: dict[str, accounts.KeyRecord] = {}
        self._wires = {name: Wire(name) for name in SERVICES}

    def _key(self, access_key_id: str) -> accounts.KeyRecord | None:
        record = self._keys.get(access_key_id)
        if record is None:
            with self.store.transaction(write=False) as conn:
                record = accounts.lookup_key(conn, self.box, access_key_id)
            if record is not None:
                self._keys[access_key_id] = record
        return record

    def handle(self, method: str, raw_path: str, query_string: str, headers: dict, body: bytes) -> Response:
        request_id = str(uuid.uuid4())
        query_pairs = parse_qsl(query_string, keep_blank_values=True)
        params = dict(query_pairs)
        if method == "POST" and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            try:
                params.update(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
            except UnicodeDecodeError:
                pass
        wire = None
        try:
            parts = sigv4.extract(headers, params)
            service = parts.credential.service
            wire = self._wires.get(service)
            if wire is None:
                wire = self._wires[guess_service(headers, params)]
                raise sigv4.AuthError("scope", f"Credential should be scoped to correct service: '{wire.service}'.")
            region = parts.credential.region
            if not is_region(region):
                raise sigv4.AuthError("scope", f"Credential should be scoped to a valid region, not '{region}'.")
            if parts.credential.terminator != "aws4_request":
                raise sigv4.AuthError("scope", "Credential should be scoped with a valid terminator: 'aws4_request'.")
            sigv4.check_time(parts, datetime.now(timezone.utc))
            record = self._key(parts.credential.access_key_id)
            if record is None or record.status != "Active":
                raise sigv4.AuthError("unknown_key", "The security token included in the request is invalid.")
            sigv4.verify(record.secret, parts, method, raw_path, query_pairs, headers, body)
        except sigv4.AuthError as exc:
            wire = wire or self._wires[guess_service(headers, params)]
            code, message, status = wire.auth_error(exc.kind, exc.message)
            return Response(status, wire.content_type(), wire.error(code, message, request_id), request_id)
        caller = Caller(record.account_id, region, parts.credential.access_key_id)
        return self._run(wire, caller, params, headers, body, request_id)

    def _run(self, wire: Wire, caller: Caller, params: dict, headers: dict, body: bytes, request_id: str) -> Response:
        name = wire.operation_name(params, headers)
        operation = REGISTRY.get(wire.service, {}).get(name or "")
        try:
            if operation is None:
                code, message = wire.unknown_operation(name)
                raise AwsError(code, message)
            parsed = wire.parse(operation.name, params, body)
            dry_run = bool(parsed.pop("DryRun", False))
            result = self._execute(operation, caller, parsed, request_id, dry_run)
            return Response(200, wire.content_type(), wire.result(operation.name, result, request_id), request_id)
        except DryRunSucceeded:
            message = "Request would have succeeded, but DryRun flag is set."
            return Response(412, wire.content_type(), wire.error("DryRunOperation", message, request_id), request_id)
        except AwsError as exc:
            return Response(exc.status, wire.content_type(), wire.error(exc.code, exc.message, request_id, exc.sender), request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            message = "An internal error has occurred"
            return Response(500, wire.content_type(), wire.error("InternalError", message, request_id, False), request_id)

    def _execute(self, operation, caller, parsed, request_id, dry_run):
        """Run the handler in one transaction. A concurrent request that won a race (a unique
        key, a lock) makes the call run again, so the domain answers with the state that won."""
        for attempt in range(3):
            try:
                with self.store.transaction(write=operation.writes) as conn:
                    ctx = Ctx(conn, caller, time.time(), self.settings, request_id, self.box)
                    result = operation.handler(ctx, parsed)
                    if dry_run:
                        raise DryRunSucceeded()
                    return result
            except IntegrityError as exc:
                if attempt == 2:
                    raise AwsError("Conflict", "The request conflicts with a concurrent change; retry it.", 409) from exc
            except OperationalError as exc:
                message = str(exc).lower()
                if attempt == 2 or not ("locked" in message or "serializ" in message or "deadlock" in message):
                    raise
        raise AssertionError("unreachable")
