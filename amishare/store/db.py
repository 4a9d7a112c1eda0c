"""Engine creation, transactions and schema migrations.

SQLite runs in WAL mode with synchronous=FULL so that an acknowledged write
survives a crash; write transactions start with BEGIN IMMEDIATE so that two
writers queue on the lock instead of failing on an upgrade. PostgreSQL is used
as configured by its URL.
"""

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from amishare.store.columns import check_fits

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseTooNew(RuntimeError):
    pass


# The deadline of the transaction running on this thread (time.monotonic()), if it has one.
_deadline = threading.local()
_PROGRESS_STEPS = 20_000  # SQLite VM instructions between deadline checks


def _past_deadline() -> int:
    deadline = getattr(_deadline, "at", None)
    return 1 if deadline is not None and time.monotonic() > deadline else 0


class DeadlineExceeded(Exception):
    """The transaction ran out of time between statements."""


def check_deadline() -> None:
    """For loops that run many statements: stop once the transaction's time is up."""
    if _past_deadline():
        raise DeadlineExceeded()


def is_timeout(exc: Exception) -> bool:
    """A transaction stopped because it ran out of time (SQLite interrupt, PostgreSQL timeout, or between statements)."""
    if isinstance(exc, DeadlineExceeded):
        return True
    message = str(exc).lower()
    return "interrupted" in message or "statement timeout" in message


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()
        dbapi_connection.set_progress_handler(_past_deadline, _PROGRESS_STEPS)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # On the driver's connection: SQLAlchemy's execute path would cost more than BEGIN itself.
        mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN"
        try:
            conn.connection.driver_connection.execute(mode)
        except sqlite3.Error as exc:  # "database is locked": the caller retries, as for any statement
            raise DBAPIError.instance(mode, (), exc, sqlite3.Error, dialect=conn.dialect) from exc

    return engine


def _private_files(path: Path) -> None:
    """The database holds sealed secrets and every account's data: readable by its owner only.
    SQLite gives the -wal and -shm files the mode of the database file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists():
            os.chmod(candidate, 0o600)


def _check_string_lengths(conn, cursor, statement, parameters, context, executemany):
    """No string longer than its column reaches the database, whichever store module writes it:
    every INSERT and UPDATE is checked as `columns.check_fits` checks a row, before it is sent."""
    if context is None or not (context.isinsert or context.isupdate) or context.compiled is None:
        return
    if context.execution_options.get("lengths_checked"):  # a bulk writer that cut its values to size itself
        return
    table = getattr(context.compiled.statement, "table", None)
    if table is not None:
        check_fits(table, *context.compiled_parameters)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            raise ValueError("amishare needs a database file or server; in-memory SQLite is not shared between processes")
        path = url.split("///", 1)[1] if "///" in url else ""
        if path:
            _private_files(Path(path))
        engine = _sqlite_engine(url)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    event.listen(engine, "before_cursor_execute", _check_string_lengths)
    return engine


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; refuse a database written by a newer amishare."""
    with engine.connect() as conn:
        conn = conn.execution_options(write=True)
        with conn.begin():
            config = _alembic_config(conn)
            current = MigrationContext.configure(conn).get_current_revision()
            scripts = ScriptDirectory.from_config(config)
            known = {rev.revision for rev in scripts.walk_revisions()}
            if current is not None and current not in known:
                raise DatabaseTooNew(
                    f"The database is at schema revision {current}, which this version of amishare does not know; "
                    "it was written by a newer amishare. Upgrade amishare to use it."
                )
            if current != scripts.get_current_head():
                command.upgrade(config, "head")


_MEMO = "amishare.transaction_memo"


def transaction_memo(conn) -> dict:
    """A dict that lives as long as the transaction running on `conn` (a fresh one outside a
    transaction): for facts read once per transaction, whichever layer asks."""
    transaction = conn.get_transaction()
    if transaction is None:
        return {}
    held = conn.info.get(_MEMO)
    if held is None or held[0] is not transaction:
        held = conn.info[_MEMO] = (transaction, {})
    return held[1]


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.postgres = self.engine.dialect.name == "postgresql"
        # Each thread keeps one connection between its transactions: checking a connection out of
        # the pool and back costs more than a small request's SQL. All of them, to close on dispose.
        self._held = threading.local()
        self._all_held: list[Connection] = []
        self._held_lock = threading.Lock()

    def _connection(self):
        """This thread's connection, or a fresh one while it is busy (a transaction inside another)."""
        conn = getattr(self._held, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._held.conn = conn
            with self._held_lock:
                self._all_held[:] = [c for c in self._all_held if not c.closed] + [conn]
            return conn, False
        if conn.in_transaction():
            return self.engine.connect(), True
        return conn, False

    def _lost(self, conn, exc: DBAPIError) -> None:
        """After a failed statement: a connection the server dropped is thrown away (the pool checks
        the next one out with its usual pre-ping); a lock or a constraint leaves it as good as new."""
        if not (exc.connection_invalidated or (self.postgres and self.engine.dialect.is_disconnect(exc.orig, None, None))):
            return
        if getattr(self._held, "conn", None) is conn:
            self._held.conn = None
        try:
            if not conn.closed and not conn.invalidated:
                conn.invalidate()
        except Exception:  # noqa: BLE001 - it is being thrown away
            pass

    @contextmanager
    def transaction(self, write: bool = True, timeout: float | None = None):
        """One transaction; with `timeout`, it is interrupted once it has run that long (SQLite: the
        progress handler; PostgreSQL: a statement timeout local to the transaction)."""
        _deadline.at = time.monotonic() + timeout if timeout else None
        conn, fresh = self._connection()
        try:
            conn.execution_options(write=write)
            with conn.begin():
                if timeout and self.postgres:
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
                yield conn
        except DBAPIError as exc:
            self._lost(conn, exc)
            raise
        finally:
            _deadline.at = None
            if fresh:
                conn.close()

    @contextmanager
    def single_read(self):
        """A connection for a read of one statement, outside any transaction: a single SELECT sees
        one consistent state by itself, and BEGIN and COMMIT would be two more statements (round
        trips on PostgreSQL) for nothing. SQLite runs it in autocommit mode; PostgreSQL in autocommit
        too, for its duration. Anything that needs more (SQLAlchemy's autobegin) is rolled back."""
        conn, fresh = self._connection()
        driver = conn.connection.driver_connection if self.postgres else None
        try:
            conn.execution_options(write=False)
            if driver is not None:
                driver.autocommit = True
            yield conn
            if conn.in_transaction():
                conn.rollback()
        except DBAPIError as exc:
            self._lost(conn, exc)
            raise
        finally:
            if driver is not None and not conn.invalidated:
                driver.autocommit = False
            if fresh:
                conn.close()

    def ping(self, timeout: float = 2.0) -> None:
        """Raise unless the database answers a trivial query within `timeout` seconds."""
        with self.transaction(write=False, timeout=timeout) as conn:
            conn.exec_driver_sql("SELECT 1")

    def pool_figures(self) -> dict[str, int]:
        """The connection pool: connections in use and idle, its size and overflow (0 where the pool has none)."""
        pool = self.engine.pool
        figure = lambda name: int(getattr(pool, name)()) if hasattr(pool, name) else 0  # noqa: E731
        return {"in_use": figure("checkedout"), "idle": figure("checkedin"), "size": figure("size"),
                "overflow": max(0, figure("overflow"))}

    def dispose(self) -> None:
        with self._held_lock:
            held, self._all_held = self._all_held, []
        for conn in held:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - another thread's connection, closed on the way out anyway
                pass
        self._held = threading.local()
        self.engine.dispose()


def open_store(url: str, run_migrations: bool = True) -> Store:
    store = Store(url)
    if run_migrations:
        migrate(store.engine)
    return store
