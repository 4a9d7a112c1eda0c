"""The access log and the request metrics: one line and one count per HTTP request.

Who called what (principal, account, Region, operation) comes from an observer of
the application, told about every call once it has ended; what happened on the wire
(HTTP status, bytes, latency, and the error of a request refused before it became a
call, such as a bad signature) is the front end's. Secrets never reach either: the
observer reads the principal's ARN, not its keys, and no request body is logged.
"""

import json
import logging
import os
import threading
import time
from dataclasses import dataclass

from amishare.api import metrics
from amishare.api.frontend import Response
from amishare.application import Application, Call, Outcome

FORMATS = ("text", "json", "off")
POOL_EVERY = 1.0  # seconds between readings of the connection pool's figures


@dataclass
class CallFacts:
    """What the application told about the call a request made."""

    principal: str | None = None
    account: str | None = None
    region: str | None = None
    service: str | None = None
    operation: str | None = None


@dataclass
class Exchange:
    """One request and its answer, as logged and counted."""

    request_id: str
    status: int
    service: str | None
    operation: str | None
    error_code: str | None
    latency: float  # seconds
    request_bytes: int
    response_bytes: int
    facts: CallFacts
    source_ip: str | None = None

    def record(self) -> dict:
        return {
            "time": _iso_now(),
            "request_id": self.request_id or None,
            "principal": self.facts.principal,
            "account": self.facts.account,
            "region": self.facts.region,
            "service": self.facts.service or self.service,
            "operation": self.facts.operation or self.operation,
            "status": self.status,
            "error_code": self.error_code,
            "latency_ms": round(self.latency * 1000, 3),
            "request_bytes": self.request_bytes,
            "response_bytes": self.response_bytes,
            "source_ip": self.source_ip,
        }


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def format_line(record: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(record, separators=(",", ":"))
    return " ".join(f"{key}={'-' if value is None else value}" for key, value in record.items())


def write_line(line: str, fd: int = 2) -> None:
    """One line to standard error in one write, so that the lines of several workers
    sharing it never interleave."""
    os.write(fd, (line + "\n").encode("utf-8", "replace"))


class Telemetry:
    def __init__(self, application: Application, log_format: str = "text"):
        if log_format not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
        self.store = application.store
        self.log_format = log_format
        self.metrics = metrics.Metrics(application.store)
        self._local = threading.local()
        self._children: dict[tuple, tuple] = {}  # the metrics of each (service, operation, status)
        self._pool_read_at = 0.0
        application.observers.append(self.observe)

    # --- the application's side

    def observe(self, call: Call, operation, outcome: Outcome) -> None:
        """An application observer: the facts of the call, for the request running it on this thread."""
        name = operation.name if operation is not None else None
        facts = getattr(self._local, "facts", None)
        if facts is not None:
            facts.principal = call.principal.arn or None
            facts.account = call.principal.account_id
            facts.region = call.region
            facts.service = call.service
            facts.operation = name
        for reason in outcome.retries:
            metrics.RETRIES.labels(call.service, name or "unknown", reason).inc()

    # --- the front end's side

    def handle(self, handler, request, started: float) -> Response:
        """Run `handler(request)` (on this thread), then log and count the exchange."""
        self._local.facts = facts = CallFacts()
        try:
            response = handler(request)
        finally:
            self._local.facts = None
        self.finish(response, time.perf_counter() - started, len(request.body), facts, request.client_ip)
        return response

    def finish(self, response: Response, latency: float, request_bytes: int, facts: CallFacts | None = None,
               source_ip: str | None = None) -> None:
        exchange = Exchange(response.request_id, response.status, response.service, response.operation,
                            response.error_code, latency, request_bytes, len(response.body), facts or CallFacts(),
                            source_ip)
        try:
            self._count(exchange)
            if self.log_format != "off":
                write_line(format_line(exchange.record(), self.log_format))
        except Exception:  # never let telemetry change an answer
            logging.getLogger("amishare").exception("telemetry failed for request %s", response.request_id)

    def _count(self, exchange: Exchange) -> None:
        service = exchange.facts.service or exchange.service or "unknown"
        operation = exchange.facts.operation or exchange.operation or "unknown"
        key = (service, operation, exchange.status)
        children = self._children.get(key)
        if children is None:
            status = str(exchange.status)
            children = self._children[key] = (
                metrics.REQUESTS.labels(service, operation, status), metrics.LATENCY.labels(service, operation, status),
                metrics.REQUEST_BYTES.labels(service), metrics.RESPONSE_BYTES.labels(service))
        requests, latency, received, sent = children
        requests.inc()
        latency.observe(exchange.latency)
        received.inc(exchange.request_bytes)
        sent.inc(exchange.response_bytes)
        if exchange.error_code:
            metrics.ERRORS.labels(service, operation, exchange.error_code).inc()
        now = time.monotonic()
        if now - self._pool_read_at >= POOL_EVERY:  # /metrics reads it too; this keeps other workers' current
            self._pool_read_at = now
            metrics.record_pool(self.store.pool_figures())
