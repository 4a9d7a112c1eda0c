"""Prometheus metrics, served at /metrics.

Request counts, latencies, bytes and errors are counted by the front end; transaction
retries and the connection pool after every call; the inventory (accounts, images,
grants) is read from the database when scraped, at most every few seconds.

With several server processes (`amishare serve --workers N`), PROMETHEUS_MULTIPROC_DIR
names a directory the processes share (the CLI makes and removes it), and a scrape of
any worker sums them all (prometheus_client's multiprocess mode).
"""

import logging
import os
import threading
import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from amishare.store.statistics import totals

log = logging.getLogger("amishare")

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
INVENTORY_TTL = 5.0  # seconds a scrape reuses the inventory read by the one before
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("amishare_requests", "API requests answered, by service, operation and HTTP status",
                   ["service", "operation", "status"])
LATENCY = Histogram("amishare_request_duration_seconds", "Time to answer an API request",
                    ["service", "operation", "status"], buckets=_LATENCY_BUCKETS)
ERRORS = Counter("amishare_errors", "API requests answered with an AWS error, by error code",
                 ["service", "operation", "code"])
REQUEST_BYTES = Counter("amishare_request_bytes", "Bytes of API request bodies received", ["service"])
RESPONSE_BYTES = Counter("amishare_response_bytes", "Bytes of API response bodies sent", ["service"])
RETRIES = Counter("amishare_transaction_retries", "Transactions run again after losing a race "
                  "(reason: conflict on a unique key, or lock)", ["service", "operation", "reason"])
POOL = Gauge("amishare_db_pool_connections", "Database connections of the pool, by state (in_use, idle), "
             "and the pool's configured size and current overflow", ["state"], multiprocess_mode="livesum")


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def record_pool(figures: dict) -> None:
    for state, value in figures.items():
        POOL.labels(state).set(value)


class InventoryCollector:
    """Accounts, images and grants, read when scraped (cached for INVENTORY_TTL seconds)."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._cached: tuple[float, dict] | None = None

    def describe(self):
        return list(self._families({}))  # names only: registering must not read the database

    def collect(self):
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > INVENTORY_TTL:
                try:
                    with self.store.transaction(write=False, timeout=5) as conn:
                        self._cached = (time.monotonic(), totals(conn))
                except Exception as exc:  # a scrape still answers, without these figures
                    log.warning("inventory metrics unavailable: %s", exc)
                    return []
            figures = self._cached[1]
        return list(self._families(figures))

    @staticmethod
    def _families(figures: dict):
        def gauge(name, documentation, value, labels=None):
            family = GaugeMetricFamily(name, documentation, labels=list(labels or {}) or None)
            if value is None:
                return family
            if labels:
                for key, count in sorted(value.items()):
                    family.add_metric([key], count)
            else:
                family.add_metric([], value)
            return family

        yield gauge("amishare_accounts", "Customer accounts", figures.get("accounts"))
        yield gauge("amishare_images", "Images owned by customer accounts", figures.get("images"))
        yield gauge("amishare_public_images", "Public images of customer accounts", figures.get("public_images"))
        yield gauge("amishare_launch_permissions", "Launch permission grants, by grantee type",
                    figures.get("launch_permissions"), {"grantee_type": None})
        yield gauge("amishare_snapshot_permissions", "Create-volume permission grants of snapshots",
                    figures.get("snapshot_permissions"))


class Metrics:
    """What /metrics answers for one server process."""

    def __init__(self, store):
        self.store = store
        if multiprocess():
            from prometheus_client import multiprocess as mp

            self.registry = CollectorRegistry()
            mp.MultiProcessCollector(self.registry)
        else:
            self.registry = REGISTRY
        _register_inventory(self.registry, InventoryCollector(store))

    def render(self) -> tuple[bytes, str]:
        record_pool(self.store.pool_figures())
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """This process stops: its live gauges no longer count (multiprocess mode)."""
        if multiprocess():
            from prometheus_client import multiprocess as mp

            mp.mark_process_dead(os.getpid())


_inventory: dict[int, InventoryCollector] = {}


def _register_inventory(registry, collector: InventoryCollector) -> None:
    """One inventory collector per registry (a process builds one application, tests may build more)."""
    previous = _inventory.get(id(registry))
    if previous is not None:
        registry.unregister(previous)
    registry.register(collector)
    _inventory[id(registry)] = collector
