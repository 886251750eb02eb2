"""Fresh databases for a benchmark run: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

__all__ = ["PG_ADMIN_URL", "fresh_database", "postgres_reachable"]

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
