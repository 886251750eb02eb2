"""Databases for a benchmark run: a fresh SQLite file or PostgreSQL database, a named one for
`--generate-only`, and a throwaway copy of a ledger built earlier (the suite writes)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

__all__ = ["PG_ADMIN_URL", "copy_of", "create_database", "fresh_database", "kind_of",
           "ledger_url", "postgres_reachable"]

PG_ADMIN_URL = os.environ.get(
    "FSF_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                            poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})


def postgres_reachable() -> bool:
    """Whether the benchmark's PostgreSQL server answers."""
    try:
        with _admin().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        return False
    return True


def ledger_url(path_or_url: str) -> str:
    """A database URL from a SQLite file path or a URL (kept as given)."""
    if "://" in path_or_url:
        return path_or_url
    return f"sqlite:///{Path(path_or_url).resolve()}"


def kind_of(url: str) -> str:
    """`sqlite` or `postgresql`, the two databases the suite knows."""
    backend = sa.make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{url}: the suite runs on SQLite or PostgreSQL, not {backend}")
    return backend


def _pg_name(url: str) -> str:
    name = sa.make_url(url).database
    if not name or '"' in name:
        raise ValueError(f"{url} names no usable PostgreSQL database")
    return name


def create_database(url: str) -> None:
    """Make sure the database at `url` can be generated into: a SQLite file must not exist
    yet; a PostgreSQL database is created unless it exists (it must then be empty)."""
    if kind_of(url) == "sqlite":
        path = Path(sa.make_url(url).database or "")
        if path.exists():
            raise FileExistsError(f"{path} already exists; generate into a new file")
        return
    name = _pg_name(url)
    with _admin().connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name}).first()
        if found is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(sa.text("SELECT count(*) FROM information_schema.tables "
                                          "WHERE table_schema = 'public'")).scalar_one()
    finally:
        engine.dispose()
    if tables:
        raise FileExistsError(f"database {name} already holds {tables} tables; generate into "
                              "a new or empty database")


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database of `kind` (sqlite or postgresql), dropped afterwards."""
    if kind == "sqlite":
        path = folder / f"bench_{uuid.uuid4().hex[:8]}.sqlite"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"fsf_bench_{uuid.uuid4().hex[:10]}"
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def copy_of(url: str, folder: Path) -> Iterator[str]:
    """A copy of the ledger at `url`, dropped afterwards: the suite posts repayments, and a
    ledger built once (which may take an hour) is kept as it was for the next run."""
    if kind_of(url) == "sqlite":
        source = Path(sa.make_url(url).database or "")
        if not source.is_file():
            raise FileNotFoundError(f"no ledger at {source}")
        with fresh_database("sqlite", folder) as target:
            target_path = sa.make_url(target).database or ""
            for suffix in ("", "-wal"):  # the generator folds the WAL in; a later writer may not
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{target_path}{suffix}")
            yield target
        return
    name = f"fsf_bench_{uuid.uuid4().hex[:10]}"
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_name(url)}"')
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
