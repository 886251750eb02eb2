"""Engines: SQLite pragmas on every connection, the write lock at BEGIN, URL resolution, and no
engine or file made at import time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger.db import engine as engine_mod
from ledger.db import make_engine, read_only, resolve_url
from ledger.db.engine import default_ledger_path

ROOT = Path(__file__).resolve().parents[1]


def test_sqlite_connections_get_wal_foreign_keys_full_sync_and_busy_timeout(
    tmp_path: Path,
) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}", busy_timeout_ms=1234)
    # synchronous 2 is FULL in SQLite's numbering.
    expected = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "busy_timeout": 1234}
    try:
        # Two DBAPI connections at once (raw, so that no BEGIN IMMEDIATE makes one wait for the
        # other): the event runs on each, not only on the first.
        raws = [eng.raw_connection(), eng.raw_connection()]
        try:
            for raw in raws:
                cur = raw.cursor()
                for name, value in expected.items():
                    cur.execute(f"PRAGMA {name}")
                    assert cur.fetchone()[0] == value, name
        finally:
            for raw in raws:
                raw.close()
    finally:
        eng.dispose()


def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'fk.sqlite'}")
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            conn.exec_driver_sql("CREATE TABLE c (id INTEGER PRIMARY KEY, p_id REFERENCES p(id))")
        with pytest.raises(sa.exc.IntegrityError), eng.begin() as conn:
            conn.exec_driver_sql("INSERT INTO c (p_id) VALUES (42)")
    finally:
        eng.dispose()


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lock.sqlite'}"
    first, second = make_engine(url), make_engine(url, busy_timeout_ms=50)
    try:
        with first.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with first.begin() as holder:
            # Only a read so far; with a DEFERRED begin this would take no write lock.
            holder.exec_driver_sql("SELECT count(*) FROM t").scalar()
            with pytest.raises(sa.exc.OperationalError, match="locked"), second.begin() as other:
                other.exec_driver_sql("SELECT count(*) FROM t").scalar()
            # A read-only engine begins DEFERRED and may read beside the writer (WAL).
            with read_only(second).connect() as reader:
                assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        first.dispose()
        second.dispose()


def test_make_engine_creates_the_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ledger.sqlite"
    eng = make_engine(f"sqlite:///{path}")
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert path.exists()
    finally:
        eng.dispose()


def test_resolve_url_path_becomes_absolute_sqlite_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_url(tmp_path / "x.sqlite") == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert resolve_url("rel/y.sqlite") == f"sqlite:///{tmp_path / 'rel' / 'y.sqlite'}"


def test_resolve_url_keeps_urls_as_given() -> None:
    pg = "postgresql+psycopg://fsf:secret@db.example:5432/ledger"
    assert resolve_url(pg) == pg
    assert resolve_url("sqlite:////tmp/z.sqlite") == "sqlite:////tmp/z.sqlite"


def test_resolve_url_none_uses_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FSF_DATABASE_URL", "postgresql+psycopg://u@h/d")
    assert resolve_url(None) == "postgresql+psycopg://u@h/d"
    monkeypatch.setenv("FSF_DATABASE_URL", str(tmp_path / "env.sqlite"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'env.sqlite'}"
    monkeypatch.delenv("FSF_DATABASE_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / engine_mod.APP_NAME / "ledger.sqlite"
    assert default_ledger_path() == expected
    assert resolve_url(None) == f"sqlite:///{expected}"


def test_importing_the_ledger_opens_nothing(tmp_path: Path) -> None:
    code = (
        "import sqlite3, psycopg, sqlalchemy, sqlalchemy.engine\n"
        "def refuse(*a, **k):\n"
        "    raise SystemExit('connected or created an engine at import time')\n"
        "sqlite3.connect = refuse\n"
        "psycopg.connect = refuse\n"
        "sqlalchemy.create_engine = refuse\n"
        "sqlalchemy.engine.create_engine = refuse\n"
        "import ledger.db, ledger.db.tables, ledger.db.migrate, ledger.db.places\n"
        "import ledger.journal, ledger.chain, ledger.accounts\n"
        "print('ok')\n"
    )
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("FSF_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    assert not (tmp_path / "data").exists(), "a file was created at import time"


@pytest.mark.postgres
def test_postgresql_engine_connects(pg_url: str) -> None:
    eng = make_engine(pg_url)
    try:
        with eng.connect() as conn:
            assert conn.dialect.name == "postgresql"
            assert conn.execute(sa.text("SELECT 40 + 2")).scalar() == 42
    finally:
        eng.dispose()
