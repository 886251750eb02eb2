"""Backups: a consistent copy taken while a writer holds the ledger, verified; restore round
trips on SQLite and PostgreSQL; a tampered backup is refused; old automatic backups are pruned;
and a locked ledger gives a clear message instead of a stack trace."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ledger.backup import BackupError, prune, restore, take_backup
from ledger.db import make_engine
from ledger.services.repayments import record_repayment
from ledger.verify import verify_ledger
from tests.support.world import ACTOR, TODAY, build_world, riel
from tui.cli import build_app


def _ledger(url: str, payments: int = 2) -> str:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, families=1)
        loan = world.loan(world.families[0])
        for n in range(payments):
            record_repayment(s, actor=ACTOR, loan_id=loan, amount=riel(1_000),
                             paid_on=date(2008, 2, 1 + n), today=TODAY)
        last = verify_ledger(s).last_hash
    engine.dispose()
    return last


def _pay(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        record_repayment(s, actor=ACTOR, loan_id=1, amount=riel(500), paid_on=date(2008, 3, 1),
                         today=TODAY)
    engine.dispose()


def _last_hash(url: str) -> str:
    engine = make_engine(url)
    with Session(engine) as s:
        report = verify_ledger(s)
    engine.dispose()
    assert report.ok
    return report.last_hash


def test_sqlite_backup_while_a_writer_holds_the_ledger_and_restore(
        sqlite_url: str, tmp_path: Path) -> None:
    committed = _ledger(sqlite_url)
    path = Path(sa.make_url(sqlite_url).database or "")
    writer = sqlite3.connect(path)
    writer.execute("BEGIN IMMEDIATE")  # another program is in the middle of a posting
    writer.execute("INSERT INTO app_meta (key, value) VALUES ('half', 'written')")
    result = take_backup(sqlite_url, to=tmp_path)
    writer.rollback()
    writer.close()
    assert result.path.parent == tmp_path and result.path.name.startswith("fsf-backup-")
    assert result.report.ok and result.report.last_hash == committed
    _pay(sqlite_url)
    assert _last_hash(sqlite_url) != committed
    with pytest.raises(BackupError, match="already there"):
        restore(result.path, sqlite_url)
    restore(result.path, sqlite_url, force=True)
    assert _last_hash(sqlite_url) == committed
    assert list((path.parent / "backups" / "auto").glob("fsf-backup-before-restore-*"))


def test_a_tampered_backup_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    _ledger(sqlite_url)
    result = take_backup(sqlite_url, to=tmp_path / "copy.sqlite")
    con = sqlite3.connect(result.path)  # an edit made outside the app
    con.execute("DROP TRIGGER posting_no_update")
    con.execute("UPDATE posting SET amount_minor = amount_minor + 1 WHERE id = 1")
    con.commit()
    con.close()
    target = tmp_path / "new.sqlite"
    with pytest.raises(BackupError, match="does not verify"):
        restore(result.path, f"sqlite:///{target}")
    assert not target.exists()


def test_automatic_backups_keep_the_newest(sqlite_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    _ledger(sqlite_url, payments=0)
    for hour in range(4):
        take_backup(sqlite_url, automatic=True, keep=2,
                    at=datetime(2026, 1, 1, hour, tzinfo=UTC))
    folder = Path(sa.make_url(sqlite_url).database or "").parent / "backups" / "auto"
    assert sorted(p.name for p in folder.iterdir()) == [
        "fsf-backup-2026-01-01-020000.sqlite", "fsf-backup-2026-01-01-030000.sqlite"]
    assert prune(folder, 1) == [folder / "fsf-backup-2026-01-01-020000.sqlite"]


@pytest.mark.postgres
def test_postgresql_backup_and_restore_round_trip(
        make_pg_database: Callable[..., str], tmp_path: Path) -> None:
    url = make_pg_database()
    committed = _ledger(url)
    result = take_backup(url, to=tmp_path)
    assert result.path.suffix == ".dump" and result.report.last_hash == committed
    _pay(url)
    restore(result.path, url, force=True)
    assert _last_hash(url) == committed
    empty = make_pg_database(migrated=False)
    restore(result.path, empty)
    assert _last_hash(empty) == committed


def test_the_cli_says_the_ledger_is_in_use(sqlite_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger(sqlite_url, payments=0)
    monkeypatch.setenv("FSF_BUSY_TIMEOUT_MS", "200")
    holder = sqlite3.connect(Path(sa.make_url(sqlite_url).database or ""))
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = CliRunner().invoke(build_app(), ["--db", sqlite_url, "verify"])
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 2, result.output
    assert "the ledger is in use by another program" in result.output
    assert "Traceback" not in result.output
