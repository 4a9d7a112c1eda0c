"""The ASGI application: read the (capped) body, hand the request to a worker
thread so that database work never runs on the event loop, and answer."""

import asyncio
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

from amishare.api.frontend import HttpApi, HttpRequest, Response
from amishare.api.telemetry import Telemetry
from amishare.application import Application
from amishare.application.delivery import EventWorkers
from amishare.console import Console
from amishare.config import Settings, default_db_url
from amishare.domain import catalog
from amishare.domain.secretbox import SecretBox
from amishare.store.db import open_store

HEALTH_PATH = "/_amishare/health"
METRICS_PATH = "/metrics"
CONSOLE_PATH = "/console"
log = logging.getLogger("amishare")


class App:
    def __init__(self, api: HttpApi, settings: Settings, telemetry: Telemetry | None = None,
                 console: Console | None = None, background=None):
        self.api = api
        self.background = background  # started with the server, stopped with it (start() and stop())
        self.console = console
        self.settings = settings
        self.telemetry = telemetry
        # 0 threads runs each request on the event loop itself (only for measuring what the threads cost).
        self.executor = (ThreadPoolExecutor(max_workers=settings.request_threads, thread_name_prefix="amishare")
                         if settings.request_threads > 0 else None)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        try:
            body = await asyncio.wait_for(self._read_body(receive), self.settings.read_timeout)
        except asyncio.TimeoutError:
            await self._refuse(send, Response(408, "text/plain", b"Request body not received in time", ""), started)
            return
        if body is None:
            await self._refuse(send, Response(413, "text/plain", b"Request body too large", ""), started)
            return
        if scope["path"] == HEALTH_PATH:
            await _send(send, await self._run(self._health))
            return
        if scope["path"] == METRICS_PATH and self.telemetry is not None:
            await _send(send, await self._run(self._metrics))
            return
        request = _request(scope, body)
        if self.console is not None and (scope["path"] == CONSOLE_PATH or scope["path"].startswith(CONSOLE_PATH + "/")):
            await _send(send, await self._run(self.console.handle, request))
            return
        if self.telemetry is None:
            response = await self._run(self.api.handle, request)
        else:
            response = await self._run(self.telemetry.handle, self.api.handle, request, started)
        await _send(send, response)

    async def _run(self, function, *args):
        """Database work runs in a worker thread, off the event loop."""
        if self.executor is None:
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def _refuse(self, send, response: Response, started: float) -> None:
        if self.telemetry is not None:
            self.telemetry.finish(response, time.perf_counter() - started, 0)
        await _send(send, response)

    def _health(self) -> Response:
        """200 {"database": "ok"} when the database answers, else 503."""
        try:
            self.api.app.store.ping()
        except Exception as exc:
            log.warning("health check: the database does not answer: %s", exc)
            body = {"database": "unavailable", "error": type(exc).__name__}
            return Response(503, "application/json", json.dumps(body).encode(), "")
        return Response(200, "application/json", b'{"database":"ok"}', "")

    def _metrics(self) -> Response:
        body, content_type = self.telemetry.metrics.render()
        return Response(200, content_type, body, "")

    async def _read_body(self, receive) -> bytes | None:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.background is not None:
                    self.background.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.background is not None:
                    self.background.stop()
                if self.executor is not None:
                    self.executor.shutdown(wait=False, cancel_futures=True)
                if self.telemetry is not None:
                    self.telemetry.metrics.close()
                self.api.app.close()  # the audit trail writes what it still holds
                await send({"type": "lifespan.shutdown.complete"})
                return


def _request(scope, body: bytes) -> HttpRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    client = scope.get("client")
    return HttpRequest(scope["method"], raw_path, scope["query_string"], headers, body,
                       client[0] if client else None, scope.get("scheme") == "https")


async def _send(send, response: Response):
    headers = [(b"content-type", response.content_type.encode()), (b"content-length", str(len(response.body)).encode())]
    if response.request_id:
        headers.append((b"x-amzn-requestid", response.request_id.encode()))
    headers.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def build_application(db_url: str, settings: Settings | None = None) -> Application:
    settings = settings or Settings()
    store = open_store(db_url)
    with store.transaction() as conn:
        catalog.ensure(conn)
    return Application(store, settings, SecretBox.for_database(db_url))


def create_app() -> App:
    """Factory for uvicorn workers; configuration comes from the environment set by `amishare serve`."""
    logging.basicConfig(level=os.environ.get("AMISHARE_LOG_LEVEL", "WARNING"))
    application = build_application(default_db_url())
    telemetry = Telemetry(application, application.settings.log_format)
    return App(HttpApi(application), application.settings, telemetry, Console(application), EventWorkers(application))
