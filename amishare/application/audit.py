"""The audit trail's recorder: an observer of every call that writes its CloudTrail record
off the request's path.

The observer only puts (call, operation, outcome) on a bounded queue; one writer thread
per process builds the records and writes whatever has queued up in one transaction (so
under load a commit carries many records, and at rest a record is written at once). A full
queue makes the calling request wait rather than lose its record. A record is written within
LINGER of its call. The trail listeners run
in that transaction, once per record written. `flush()` returns once everything queued
before it is committed: LookupEvents calls it before its transaction opens, so it sees
every call this process answered before it. The writer also drops records past their
retention, a bounded batch at a time, the oldest first.
"""

import atexit
import logging
import queue
import threading
import time
from typing import Callable

from sqlalchemy.engine import Connection

from amishare.application import trail
from amishare.application.call import Call, Outcome
from amishare.config import Settings
from amishare.store import images as image_store
from amishare.store import snapshots as snapshot_store
from amishare.store import trail as trail_store
from amishare.store.db import Store

log = logging.getLogger("amishare")

TrailListener = Callable[[Connection, dict], None]

BATCH = 500  # calls per transaction at most
LINGER = 0.05  # seconds the writer waits for more calls before it commits what it has
PURGE_EVERY = 60.0  # seconds between retention sweeps
PURGE_BATCH = 1000  # events per delete statement
PURGE_ROUNDS = 20  # delete statements per sweep; what is left waits for the next one
_ATTEMPTS = 3
_STOP = object()


class TrailRecorder:
    def __init__(self, store: Store, settings: Settings, listeners: list[TrailListener]):
        self.store = store
        self.listeners = listeners
        self.retention_seconds = settings.audit_retention_days * 86400
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, settings.audit_queue))
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._next_purge = 0.0
        self._closed = False
        self._wake = threading.Event()  # a flush or the stop wants the writer now
        atexit.register(self.close)

    # --- the request's side

    def observe(self, call: Call, operation, outcome: Outcome) -> None:
        """An application observer: queue the call for the writer (waiting while the queue is full)."""
        if operation is None or self._closed:
            return
        self._running()
        self._queue.put((call, operation, outcome))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every call queued before now is written; False if that took longer than `timeout`."""
        if self._closed:
            return True
        done = threading.Event()
        self._running()
        self._queue.put(done)
        self._wake.set()
        return done.wait(timeout)

    def before_lookup(self, call: Call, operation) -> None:
        """A step before a call's transaction: a read of the trail first sees what was recorded before it."""
        if operation.service == "cloudtrail":
            self.flush()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._wake.set()
            self._thread.join(timeout)

    # --- the writer

    def _running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="amishare-trail", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            calls = [item for item in batch if isinstance(item, tuple)]
            if calls:
                self._write(calls)
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in batch):
                return
            self._purge_if_due()

    def _next_batch(self) -> list:
        """What has queued up: after the first call the writer sleeps up to LINGER, so that one
        wake-up and one commit carry every call that came meanwhile (a flush or the stop cuts
        the sleep short)."""
        batch = [self._queue.get()]
        if isinstance(batch[0], tuple):
            self._wake.wait(LINGER)
        self._wake.clear()
        while len(batch) < BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, calls: list[tuple]) -> None:
        try:
            entries = [entry for entry in (trail.build(*call) for call in calls) if entry is not None]
        except Exception:
            log.exception("audit trail: %d records could not be built", len(calls))
            return
        for attempt in range(_ATTEMPTS):
            try:
                with self.store.transaction() as conn:
                    written = entries + self._owner_copies(conn, calls, entries)
                    trail_store.write(conn, [_event_row(e) for e in written],
                                      [_resource_row(e, kind, name) for e in written for kind, name in e.resources])
                    for entry in written:
                        for listener in self.listeners:
                            listener(conn, entry.record)
                return
            except Exception:
                if attempt == _ATTEMPTS - 1:
                    log.exception("audit trail: %d records could not be written", len(entries))
                    return
                time.sleep(0.05 * 2 ** attempt)

    def _owner_copies(self, conn, calls: list[tuple], entries: list[trail.Entry]) -> list[trail.Entry]:
        """The copies AWS delivers to the owners of the resources other accounts' calls used."""
        by_request = {entry.record["requestID"]: entry for entry in entries}
        copies = []
        for call, _operation, outcome in calls:
            target = trail.cross_account_target(call, outcome)
            entry = by_request.get(call.request_id)
            if target is None or entry is None:
                continue
            kind, resource_id, region = target
            row = (image_store.get_in_region(conn, region, resource_id) if kind == "image"
                   else snapshot_store.get(conn, resource_id))
            owner = row["owner_id"] if row is not None else None
            if trail.delivers_copy_to(owner, call.principal.account_id):
                copies.append(trail.owner_copy(entry, owner, (trail.RESOURCE_TYPES[kind], resource_id)))
        return copies

    def _purge_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        try:
            purge(self.store, time.time() - self.retention_seconds)
        except Exception:
            log.exception("audit trail: the retention sweep failed")


def purge(store: Store, before: float, rounds: int = PURGE_ROUNDS) -> int:
    """Delete events older than `before`, a bounded batch per transaction; how many were deleted."""
    deleted = 0
    for _ in range(rounds):
        with store.transaction() as conn:
            count = trail_store.purge(conn, before, PURGE_BATCH)
        deleted += count
        if count < PURGE_BATCH:
            break
    return deleted


def _event_row(entry: trail.Entry) -> dict:
    return {"event_id": entry.event_id, "account_id": entry.account_id, "region": entry.region,
            "event_time": entry.event_time, "event_name": entry.event_name, "event_source": entry.event_source,
            "read_only": entry.read_only, "username": entry.username, "access_key_id": entry.access_key_id,
            "record": trail.serialize_entry(entry)}


def _resource_row(entry: trail.Entry, kind: str, name: str) -> dict:
    return {"event_id": entry.event_id, "resource_type": kind, "resource_name": name, "account_id": entry.account_id,
            "region": entry.region, "event_time": entry.event_time}
