"""Server settings. Defaults follow AWS; each can be changed for tests and demos."""

import os
from dataclasses import dataclass, field


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


@dataclass
class Settings:
    # Seconds a new image, snapshot, volume or instance stays in its transitional state.
    state_delay: float = field(default_factory=lambda: _env_float("AMISHARE_STATE_DELAY", 0.2))
    # Block public access for AMIs for accounts that never set it (AWS: enabled for new accounts).
    block_public_access_default: bool = field(
        default_factory=lambda: os.environ.get("AMISHARE_BLOCK_PUBLIC_ACCESS_DEFAULT", "block-new-sharing") != "unblocked")
    # Seconds before a change of that setting takes effect (AWS: up to 10 minutes).
    block_public_access_delay: float = field(default_factory=lambda: _env_float("AMISHARE_BLOCK_PUBLIC_ACCESS_DELAY", 0.0))
    # Quotas per account and Region (AWS's defaults).
    max_launch_permission_accounts: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_SHARED_ACCOUNTS", 1000))
    max_public_images: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_PUBLIC_IMAGES", 5))
    max_images: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_IMAGES", 50000))
    # Limits that keep one client from stalling the others.
    max_body: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_BODY", 1024 * 1024))
    read_timeout: float = field(default_factory=lambda: _env_float("AMISHARE_READ_TIMEOUT", 20.0))
    request_timeout: float = field(default_factory=lambda: _env_float("AMISHARE_REQUEST_TIMEOUT", 10.0))
    request_threads: int = field(default_factory=lambda: _env_int("AMISHARE_REQUEST_THREADS", 8))
    max_connections: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_CONNECTIONS", 1000))
    # Running (pending or running) instances and EBS volumes per account and Region. AWS counts
    # On-Demand vCPUs and volume storage; counts bound what one account can make the store hold.
    max_instances: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_INSTANCES", 1000))
    max_volumes: int = field(default_factory=lambda: _env_int("AMISHARE_MAX_VOLUMES", 5000))
    # The access log on standard error: one line per request, as text (key=value) or json, or off.
    # How long a console sign-in lasts, in seconds.
    console_session_seconds: float = field(default_factory=lambda: _env_float("AMISHARE_CONSOLE_SESSION_SECONDS", 12 * 3600))
    log_format: str = field(default_factory=lambda: os.environ.get("AMISHARE_LOG_FORMAT") or "text")
    # The audit trail: every call recorded as a CloudTrail management event, kept this many days
    # (AWS's event history keeps 90). "off" records nothing (only for measuring what recording costs).
    audit_trail: bool = field(default_factory=lambda: os.environ.get("AMISHARE_AUDIT_TRAIL", "on") != "off")
    audit_retention_days: float = field(default_factory=lambda: _env_float("AMISHARE_AUDIT_RETENTION_DAYS", 90.0))
    # Calls waiting for the trail's writer; a request waits while it is full.
    audit_queue: int = field(default_factory=lambda: _env_int("AMISHARE_AUDIT_QUEUE", 10000))
    # EventBridge delivery, on threads of each server process: "off" leaves events in the outbox.
    event_delivery: bool = field(default_factory=lambda: os.environ.get("AMISHARE_EVENT_DELIVERY", "on") != "off")
    # Seconds between looks at the outbox and at images whose timed state has come due.
    event_poll_interval: float = field(default_factory=lambda: _env_float("AMISHARE_EVENT_POLL_INTERVAL", 0.25))
    # Retries back off exponentially (with jitter) from the base to the cap, in seconds.
    event_retry_base: float = field(default_factory=lambda: _env_float("AMISHARE_EVENT_RETRY_BASE", 1.0))
    event_retry_cap: float = field(default_factory=lambda: _env_float("AMISHARE_EVENT_RETRY_CAP", 300.0))
    # How long a worker holds a delivery it took; past it, another worker may take it again.
    event_lease_seconds: float = field(default_factory=lambda: _env_float("AMISHARE_EVENT_LEASE_SECONDS", 30.0))
    # API destinations must answer within 5 seconds (as on AWS).
    event_http_timeout: float = field(default_factory=lambda: _env_float("AMISHARE_EVENT_HTTP_TIMEOUT", 5.0))
    # How long dead letters are kept, in days (an SQS queue keeps messages at most 14 days).
    event_dead_letter_days: float = field(default_factory=lambda: _env_float("AMISHARE_EVENT_DEAD_LETTER_DAYS", 14.0))
    event_delivery_threads: int = field(default_factory=lambda: _env_int("AMISHARE_EVENT_DELIVERY_THREADS", 4))


DEFAULT_DB_FILE = "amishare.db"


def default_db_url() -> str:
    return os.environ.get("AMISHARE_DB", f"sqlite:///{DEFAULT_DB_FILE}")
