"""Background work of a server process, on threads of its own (never the request threads):

- the settler writes the settled state of images whose timed transition has come due,
  with their `EC2 AMI State Change` event, so the event comes even if nobody reads the image;
- the deliverer takes due rows of the outbox (with a lease) and calls their API
  destinations over HTTP on a small pool of threads, with bounded timeouts, each
  destination's invocation rate roughly honoured, and records the outcome.

Several server processes may run these side by side: the settler's conditional update and
the outbox lease keep each change to one event and each delivery to one worker.
"""

import base64
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from amishare.domain import event_delivery, events
from amishare.domain.event_connections import Invocation, invocation

log = logging.getLogger("amishare.events")

# EventBridge retries these answers; any other 4xx (or 3xx) is not worth retrying.
RETRIED_STATUSES = {401, 407, 409, 429}
USER_AGENT = "Amazon/EventBridge/ApiDestinations"
MAX_RESPONSE_BYTES = 64 * 1024
PURGE_INTERVAL = 600.0  # seconds between sweeps of expired dead letters


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is the endpoint's final word (EventBridge doesn't follow redirects)."""

    def redirect_request(self, *args, **kwargs):
        return None


# No proxies from the environment either: the endpoint is called as the API destination names it.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


class _RateLimiter:
    """A token bucket per API destination: at most its InvocationRateLimitPerSecond in this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, arn: str, rate: int) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(arn, now))
            self._next[arn] = slot + 1.0 / max(rate, 1)
        if slot > now:
            time.sleep(min(slot - now, 5.0))


class _Tokens:
    """OAuth client-credentials tokens by connection, until they expire."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, target: Invocation, timeout: float) -> str:
        with self._lock:
            cached = self._tokens.get(target.connection_arn)
        if cached and cached[1] > time.time():
            return cached[0]
        oauth = target.oauth
        client = oauth["ClientParameters"]
        http = oauth.get("OAuthHttpParameters") or {}
        fields = [("grant_type", "client_credentials")] + [(p["Key"], p["Value"]) for p in http.get("BodyParameters") or []]
        url = _with_query(oauth["AuthorizationEndpoint"], [(p["Key"], p["Value"])
                                                           for p in http.get("QueryStringParameters") or []])
        basic = base64.b64encode(f"{client['ClientID']}:{client['ClientSecret']}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": USER_AGENT}
        headers.update({p["Key"]: p["Value"] for p in http.get("HeaderParameters") or []})
        method = oauth.get("HttpMethod") or "POST"
        body = urllib.parse.urlencode(fields).encode()
        if method == "GET":
            url, body = _with_query(url, fields), None
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        with _OPENER.open(request, timeout=timeout) as response:
            answer = json.loads(response.read(MAX_RESPONSE_BYTES))
        token = answer["access_token"]
        expires = time.time() + max(30, float(answer.get("expires_in") or 3600) - 30)
        with self._lock:
            self._tokens[target.connection_arn] = (token, expires)
        return token


def _with_query(url: str, pairs: list) -> str:
    if not pairs:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)


class Failure(Exception):
    def __init__(self, code: str, message: str, retryable: bool):
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


class EventWorkers:
    def __init__(self, application):
        self.app = application
        self.settings = application.settings
        self.owner = f"worker-{uuid.uuid4()}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._limiter = _RateLimiter()
        self._tokens = _Tokens()
        self._next_purge = 0.0
        self._in_flight = threading.Semaphore(max(1, self.settings.event_delivery_threads) * 2)

    def start(self) -> "EventWorkers":
        self._threads.append(threading.Thread(target=self._loop, args=(self.settle_once,), name="amishare-settler",
                                              daemon=True))
        if self.settings.event_delivery:
            self._pool = ThreadPoolExecutor(max_workers=max(1, self.settings.event_delivery_threads),
                                            thread_name_prefix="amishare-delivery")
            self._threads.append(threading.Thread(target=self._loop, args=(self.deliver_once,),
                                                  name="amishare-deliverer", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self, work) -> None:
        while not self._stop.is_set():
            try:
                busy = work()
            except Exception:  # a database hiccup must not end the worker
                log.exception("event worker step failed")
                busy = False
            if not busy:
                self._stop.wait(self.settings.event_poll_interval)

    # --- the settler

    def settle_once(self) -> bool:
        now = time.time()
        with self.app.store.transaction(write=False) as conn:
            if not event_delivery.settle_due_images_exist(conn, now):
                return False
        with self.app.store.transaction(write=True, timeout=self.settings.request_timeout) as conn:
            return events.settle_due_images(conn, now) > 0

    # --- the deliverer

    def deliver_once(self) -> bool:
        now = time.time()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL
            with self.app.store.transaction(write=True, timeout=self.settings.request_timeout) as conn:
                event_delivery.purge_dead_letters(conn, now, self.settings.event_dead_letter_days)
        with self.app.store.transaction(write=False) as conn:
            if not event_delivery.has_due(conn, now):
                return False
        free = 0
        while free < self.settings.event_delivery_threads * 2 and self._in_flight.acquire(blocking=False):
            free += 1
        if free == 0:
            return False
        rows = []
        try:
            with self.app.store.transaction(write=True, timeout=self.settings.request_timeout) as conn:
                rows = event_delivery.take(conn, now, self.owner, self.settings.event_lease_seconds, free)
        finally:
            for _ in range(free - len(rows)):
                self._in_flight.release()
        for row in rows:
            self._pool.submit(self._deliver, row)
        return bool(rows)

    def _deliver(self, row: dict) -> None:
        try:
            failure = self._attempt(row)
            with self.app.store.transaction(write=True, timeout=self.settings.request_timeout) as conn:
                if failure is None:
                    event_delivery.delivered(conn, row)
                else:
                    event_delivery.failed(conn, row, time.time(), failure.code, failure.message, failure.retryable,
                                          self.settings.event_retry_base, self.settings.event_retry_cap)
        except Exception:  # not recorded: the lease lapses and the delivery is tried again
            log.exception("delivery %s could not be recorded", row.get("delivery_id"))
        finally:
            self._in_flight.release()

    def _attempt(self, row: dict) -> Failure | None:
        try:
            self._call(row)
            return None
        except Failure as failure:
            return failure
        except Exception as exc:  # e.g. a connection's secrets that no longer open: tried again later
            log.exception("delivery %s failed", row.get("delivery_id"))
            return Failure("INTERNAL_ERROR", f"The delivery could not be made: {type(exc).__name__}", True)

    def _call(self, row: dict) -> None:
        with self.app.store.transaction(write=False) as conn:
            target = invocation(conn, self.app.box, row["account_id"], row["region"], row["target_arn"])
        if target is None:
            raise Failure("RESOURCE_NOT_FOUND", f"API destination {row['target_arn']} or its connection does not "
                                                "exist.", retryable=False)
        self._limiter.wait(target.arn, target.rate_limit)
        settings = json.loads(row["target"]).get("HttpParameters") or {}
        endpoint = target.endpoint
        for value in settings.get("PathParameterValues") or []:
            endpoint = endpoint.replace("*", urllib.parse.quote(value, safe=""), 1)
        query = list(target.query) + list((settings.get("QueryStringParameters") or {}).items())
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        headers.update(settings.get("HeaderParameters") or {})
        headers.update(target.headers)
        timeout = self.settings.event_http_timeout
        try:
            if target.oauth is not None:
                headers["Authorization"] = f"Bearer {self._tokens.get(target, timeout)}"
            body = None if target.method in ("GET", "HEAD") else row["body"].encode()
            request = urllib.request.Request(_with_query(endpoint, query), data=body, headers=headers,
                                             method=target.method)
            with _OPENER.open(request, timeout=timeout) as response:
                response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            status = exc.code
            raise Failure(f"HTTP_{status}", f"The endpoint answered {status}.",
                          retryable=status in RETRIED_STATUSES or status >= 500) from None
        except (OSError, ValueError, KeyError) as exc:  # refused, reset, timed out, bad OAuth answer
            raise Failure("CONNECTION_ERROR", f"The endpoint could not be reached: {exc}"[:500], retryable=True) from None
