"""Test helpers: real servers on real databases, real clients. The server and its
accounts are amishare's own test machinery (amishare.testing); this adds the
throw-away PostgreSQL databases the suite runs on."""

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from amishare import testing
from amishare.testing import Account, free_port  # noqa: F401  (the suite's names for them)

PG_ADMIN_URL = os.environ.get("AMISHARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Server(testing.Server):
    """The suite's servers keep new resources pending briefly, so that waiters are exercised."""

    state_delay: float = 0.05


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


class PgDatabase:
    """A throw-away PostgreSQL database for one test session."""

    def __init__(self):
        self.name = f"amishare_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{self.name}"

    def drop(self):
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def database_url(backend: str, tmp: Path):
    """(url, cleanup) for a fresh database of the given backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'amishare.db'}", lambda: None
    db = PgDatabase()
    return db.url, db.drop


def server_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["AMISHARE_MASTER_KEY_FILE"] = str(tmp / "master.key")
    env["AWS_CONFIG_FILE"] = str(tmp / "aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp / "aws-credentials")
    return env


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")
