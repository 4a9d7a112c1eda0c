"""A small HTTP endpoint for EventBridge API destinations in tests: it records what it
receives, can be down (its port closed), answer with a chosen status, hang, or run a
reaction to each event (as an automation would)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support import free_port

WAIT = 30.0  # seconds any wait for a delivery may take before the test fails


class Receiver:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[dict] = []
        self.status = 200
        self.hang = threading.Event()  # set: requests wait (until released) before answering
        self.released = threading.Event()
        self.react = None  # react(event_body_dict) on each request
        self.responses: dict[str, dict] = {}  # path -> the JSON answer it gets (e.g. an OAuth token endpoint)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                with receiver._lock:
                    receiver.received.append({"method": self.command, "path": self.path,
                                              "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body})
                if receiver.hang.is_set():
                    receiver.released.wait(WAIT)
                answer = receiver.responses.get(self.path.split("?")[0])
                if answer is not None:
                    payload = json.dumps(answer).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status = receiver.status
                if receiver.react is not None and status == 200:
                    try:
                        receiver.react(json.loads(body))
                    except Exception:  # the reaction failed: answer 500 so the event is retried
                        status = 500
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self, path: str | None = None) -> list:
        with self._lock:
            return [json.loads(r["body"]) if r["body"] else None for r in self.received
                    if path is None or r["path"].split("?")[0] == path]

    def wait_for(self, condition, what: str):
        """Wait until condition(self) is truthy; its value."""
        deadline = time.time() + WAIT
        while time.time() < deadline:
            value = condition(self)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"receiver never got {what}; it got {self.received}")


def wait_until(condition, what: str, timeout: float = WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")
