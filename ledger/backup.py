"""Backups and restores that are checked: a consistent copy taken while the ledger is in use,
verified (`verify_ledger` on the copy) before it is called a backup, and a restore that refuses
a copy that does not verify.

SQLite: the online backup API (`sqlite3.Connection.backup`), page by page under SQLite's own
locking, so writers may carry on. PostgreSQL: `pg_dump` in the custom format, verified by
restoring it into a scratch database on the same server with `pg_restore`.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_data_path
from sqlalchemy.orm import Session

from ledger.db.engine import APP_NAME, make_engine
from ledger.db.tables import utc_now
from ledger.verify import VerifyReport, verify_ledger

__all__ = [
    "AUTO_FOLDER",
    "DEFAULT_KEEP",
    "BackupError",
    "BackupResult",
    "backup_folder",
    "backup_name",
    "has_ledger",
    "prune",
    "restore",
    "take_backup",
    "verify_backup",
]

DEFAULT_KEEP = 10
AUTO_FOLDER = "auto"
_PREFIX = "fsf-backup-"


class BackupError(Exception):
    """A backup or restore that could not be made or did not verify; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A verified backup: where it is and what `verify_ledger` said of the copy."""

    path: Path
    report: VerifyReport


def _sqlite_file(url: sa.URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory ledger cannot be backed up")
    return Path(url.database)


def backup_name(url: sa.URL, at: datetime | None = None) -> str:
    """`fsf-backup-YYYY-MM-DD-HHMMSS.sqlite` (`.dump` for PostgreSQL), in UTC."""
    stamp = (at or utc_now()).strftime("%Y-%m-%d-%H%M%S")
    return f"{_PREFIX}{stamp}{'.sqlite' if _sqlite_file(url) else '.dump'}"


def backup_folder(url: sa.URL) -> Path:
    """Where backups go by default: a `backups` folder beside a SQLite ledger, or in the
    user's data folder for a PostgreSQL one."""
    path = _sqlite_file(url)
    base = path.parent if path is not None else user_data_path(APP_NAME, appauthor=False)
    return base / "backups"


def _libpq(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")


def _verify_url(url: str) -> VerifyReport:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with Session(engine) as session:
            return verify_ledger(session)
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"the copy is not a readable ledger: {exc}") from exc
    finally:
        engine.dispose()


@contextmanager
def _scratch_database(url: sa.URL) -> Iterator[sa.URL]:
    """A temporary empty database on the same PostgreSQL server, dropped afterwards."""
    name = f"fsf_verify_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def verify_backup(path: Path, like: sa.URL) -> VerifyReport:
    """Run `verify_ledger` on a backup file without changing it (`like` is any URL of the
    same kind of database: the scratch database for a dump is made on its server)."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    if _sqlite_file(like) is not None:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "check.sqlite"
            shutil.copyfile(path, copy)
            return _verify_url(f"sqlite:///{copy}")
    with _scratch_database(like) as scratch:
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(scratch)}",
              str(path)], "pg_restore")
        return _verify_url(scratch.render_as_string(hide_password=False))


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=15)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def take_backup(url: str | sa.URL, *, to: Path | None = None, automatic: bool = False,
                keep: int = DEFAULT_KEEP, at: datetime | None = None) -> BackupResult:
    """Copy the ledger at `url` consistently while it may be in use, verify the copy and
    return it. `to` is a file or an existing folder (default `backup_folder`); automatic
    backups go to its `auto` sub-folder, which keeps the newest `keep`. A copy that does not
    verify is deleted and BackupError names the failed check."""
    parsed = sa.make_url(url)
    name = backup_name(parsed, at)
    folder = backup_folder(parsed) / AUTO_FOLDER if automatic else backup_folder(parsed)
    target = (to / name if to.is_dir() else to) if to is not None else folder / name
    if target.exists():
        raise BackupError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_file(parsed)
    try:
        if source is not None:
            if not source.is_file():
                raise BackupError(f"no ledger at {source}")
            _copy_sqlite(source, target)
        else:
            _run(["pg_dump", "--format=custom", f"--file={target}", _libpq(parsed)], "pg_dump")
        report = verify_backup(target, parsed)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not report.ok:
        target.unlink(missing_ok=True)
        failure = report.first_failure
        raise BackupError(f"the copy does not verify ({failure.name if failure else '?'}: "
                          f"{failure.detail if failure else ''}); no backup kept")
    if automatic:
        prune(target.parent, keep)
    return BackupResult(target, report)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; return what was deleted."""
    found = sorted(p for p in folder.glob(f"{_PREFIX}*") if p.is_file())
    gone = found[:-keep] if keep > 0 else found
    for path in gone:
        path.unlink()
    return gone


def has_ledger(url: str | sa.URL) -> bool:
    """Whether a ledger (its journal) exists at `url`."""
    parsed = sa.make_url(url)
    path = _sqlite_file(parsed)
    if path is not None and not path.is_file():
        return False
    engine = make_engine(parsed.render_as_string(hide_password=False),
                         poolclass=sa.pool.NullPool)
    try:
        return "journal_entry" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(path: Path, url: str | sa.URL, *, force: bool = False) -> VerifyReport:
    """Put the backup at `path` in place of the ledger at `url`, after verifying it.

    Refuses a backup that does not verify, and an existing ledger unless `force` (which
    first keeps an automatic backup of it, verified or not, beside the others).
    """
    parsed = sa.make_url(url)
    report = verify_backup(path, parsed)
    if not report.ok:
        failure = report.first_failure
        raise BackupError(f"{path} does not verify ({failure.name if failure else '?'}: "
                          f"{failure.detail if failure else ''}); nothing restored")
    target = _sqlite_file(parsed)
    exists = has_ledger(parsed)
    if exists and not force:
        raise BackupError("a ledger is already there; --force replaces it (a copy of it is "
                          "kept first)")
    if exists:
        _keep_current(parsed)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=15)
        try:
            src.backup(dst)  # written through SQLite's locking, so an open ledger is safe
        finally:
            dst.close()
            src.close()
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error",
              "--single-transaction", f"--dbname={_libpq(parsed)}", str(path)], "pg_restore")
    return _verify_url(parsed.render_as_string(hide_password=False))


def _keep_current(url: sa.URL) -> Path:
    folder = backup_folder(url) / AUTO_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / backup_name(url).replace(_PREFIX, f"{_PREFIX}before-restore-")
    source = _sqlite_file(url)
    if source is not None:
        _copy_sqlite(source, target)
    else:
        _run(["pg_dump", "--format=custom", f"--file={target}", _libpq(url)], "pg_dump")
    return target
