"""Engines for the ledger: where the default ledger lives, URL resolution, per-connection setup.

Nothing here runs at import time. `make_engine(url)` is the only way the app gets an engine, so
every SQLite connection gets the same pragmas and every SQLite transaction takes the write lock
at BEGIN (see `_begin_sqlite`), which is what keeps the journal's hash chain linear across
processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from platformdirs import user_data_path
from sqlalchemy.engine import make_url

if TYPE_CHECKING:  # the terminal app imports this before its first paint, the ORM after it
    from sqlalchemy.orm import Session

__all__ = [
    "APP_NAME",
    "BUSY_TIMEOUT_MS",
    "DATABASE_URL_ENV",
    "default_ledger_path",
    "in_background",
    "is_busy",
    "is_postgresql",
    "is_sqlite",
    "make_engine",
    "read_only",
    "resolve_url",
    "seen_by_every_connection",
    "sqlite_page_cache",
]

APP_NAME = "fsf-ledger"
DATABASE_URL_ENV = "FSF_DATABASE_URL"
# How long a writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_MS = 15_000
# Execution option naming how a SQLite transaction begins: "IMMEDIATE" (default) or "DEFERRED".
BEGIN_OPTION = "fsf_sqlite_begin"


def default_ledger_path() -> Path:
    """The default ledger file, `ledger.sqlite` in the user's data folder (not created here)."""
    return user_data_path(APP_NAME, appauthor=False) / "ledger.sqlite"


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """Turn `--db` into a SQLAlchemy URL.

    A URL (anything with `://`) is returned as given; a path becomes `sqlite:///<absolute path>`;
    None means `$FSF_DATABASE_URL` when set, else the default ledger file.
    """
    if db is None:
        env = os.environ.get(DATABASE_URL_ENV, "").strip()
        if env:
            return resolve_url(env)
        return f"sqlite:///{default_ledger_path()}"
    text = os.fspath(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def is_sqlite(bind: sa.Engine | sa.Connection) -> bool:
    """True when the engine or connection talks to SQLite."""
    return bind.dialect.name == "sqlite"


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means another program held SQLite's write lock for longer
    than this one waits (`BUSY_TIMEOUT_MS`): nothing was written, and trying again later is
    the answer, not a fault to report."""
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, sa.exc.OperationalError) and (
        "database is locked" in text or "database is busy" in text)


def is_postgresql(bind: sa.Engine | sa.Connection) -> bool:
    """True when the engine or connection talks to PostgreSQL."""
    return bind.dialect.name == "postgresql"


@contextmanager
def sqlite_page_cache(connection: sa.Connection, kib: int) -> Iterator[None]:
    """Run the block with a SQLite connection's page cache at `kib` KiB, then put back the size
    it had; other databases are left alone. For a transaction whose pages outgrow SQLite's
    default 2 MB: it spills them mid-transaction and reads them back."""
    if not is_sqlite(connection):
        yield
        return
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size={-int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={before}")


def _on_sqlite_connect(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (the pysqlite recipe): the driver's own implicit
    # BEGIN would be DEFERRED and would come too late for the pragmas below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    finally:
        cursor.close()


def _begin_sqlite(conn: sa.Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock before the first read, so a reader of the chain's
    # last hash is also the only writer until it commits. Read-only work may opt out.
    mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
    if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
        raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **kwargs: Any) -> sa.Engine:
    """Create an engine for a ledger URL, with the ledger's per-connection setup.

    SQLite: WAL, foreign keys on, synchronous FULL, a busy timeout, and `BEGIN IMMEDIATE` for
    every transaction; `busy_timeout_ms` is how long a writer waits for another's lock. The
    parent folder of a SQLite file is created. PostgreSQL through psycopg: statements are
    prepared on their first run. Extra keyword arguments go to `sqlalchemy.create_engine`.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", busy_timeout_ms / 1000)
        engine = sa.create_engine(parsed, connect_args=connect_args, **kwargs)
        sa.event.listen(engine, "connect", partial(_on_sqlite_connect, busy_timeout_ms))
        sa.event.listen(engine, "begin", _begin_sqlite)
        return engine
    if parsed.get_driver_name() == "psycopg":
        # Prepare every statement on its first run instead of its sixth: an officer's first
        # repayments after opening the app were the slow ones (p50 9.5 -> 5.6 ms, p95 17.6 ->
        # 9.8 ms through `record_repayment`), and psycopg keeps at most 100 per connection.
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("prepare_threshold", 0)
        kwargs["connect_args"] = connect_args
    return sa.create_engine(parsed, **kwargs)


def seen_by_every_connection(engine: sa.Engine) -> bool:
    """Whether a second connection of `engine` reads the same database: not so for in-memory
    SQLite, where each connection is a database of its own. Work split over connections (the
    dashboard's parts, an import's lookups) checks this first."""
    return not (is_sqlite(engine) and engine.url.database in (None, "", ":memory:"))


def in_background(session: Session) -> Session:
    """Mark `session` as work nobody waits on: on PostgreSQL each of its transactions runs
    without parallel query workers, so a long read takes one core and leaves the other to the
    person at the keyboard instead of every core the server can use. On a 2-core laptop at a
    million loans this halved the app's key latency while the dashboard computed, and its
    figures came no later (bench/RESULTS.md). SQLite runs a query on one core anyway."""
    if is_postgresql(session.get_bind()):
        sa.event.listen(session, "after_begin", _without_parallel_workers)
    return session


def _without_parallel_workers(_session: Session, _transaction: Any,
                              connection: sa.Connection) -> None:
    connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


def read_only(engine: sa.Engine) -> sa.Engine:
    """The same engine for read-only work: each transaction reads one snapshot of the ledger
    and holds no lock that keeps a writer waiting.

    On SQLite its transactions begin DEFERRED (in WAL mode a read transaction is a snapshot);
    on PostgreSQL they run REPEATABLE READ, where READ COMMITTED would let an auditor's
    export read its journal after a repayment its trial balance was read before, and fail its
    own checks. Reports, exports and screens use it; it must never post to the journal.
    """
    if is_postgresql(engine):
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})
