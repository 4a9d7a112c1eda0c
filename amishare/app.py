"""The ASGI application: bytes in, bytes out; everything else is the dispatcher's."""

import logging
import os

from amishare.config import Settings, default_db_url
from amishare.domain import catalog
from amishare.domain.secretbox import SecretBox
from amishare.protocol.dispatch import MAX_BODY, Dispatcher
from amishare.store.db import open_store

HEALTH_PATH = "/_amishare/health"


class App:
    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _send(send, 413, "text/plain", b"Request body too large", None)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        if scope["path"] == HEALTH_PATH:
            await _send(send, 200, "text/plain", b"ok", None)
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        response = self.dispatcher.handle(
            scope["method"], raw_path, scope["query_string"].decode("latin-1"), headers, b"".join(chunks)
        )
        await _send(send, response.status, response.content_type, response.body, response.request_id)


async def _send(send, status, content_type, body, request_id):
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers.append((b"x-amzn-requestid", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_dispatcher(db_url: str, settings: Settings | None = None) -> Dispatcher:
    store = open_store(db_url)
    with store.transaction() as conn:
        catalog.ensure(conn)
    return Dispatcher(store, settings or Settings(), SecretBox.for_database(db_url))


def create_app() -> App:
    """Factory for uvicorn workers; configuration comes from the environment set by `amishare serve`."""
    logging.basicConfig(level=os.environ.get("AMISHARE_LOG_LEVEL", "WARNING"))
    return App(build_dispatcher(default_db_url()))
