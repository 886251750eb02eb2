"""An export that fails half-way leaves no file behind, and an earlier file of the same name as
it was: the auditor workbook and a CSV table are written beside their target and renamed onto
it only when whole (`exports.whole_file`). One that succeeds leaves nothing else in its folder.
A failed workbook's sheets are removed without being assembled, and a workbook too big for a
plain zip container is written with ZIP64 records."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from sqlalchemy.orm import Session

from exports import csv_export, ledger_book
from exports.csv_export import export_csv
from exports.ledger_book import export_ledger
from tests.support.world import ACTOR, TODAY
from tests.test_export_support import build_export_world


def _folder(tmp_path: Path) -> Path:
    """A folder of the exports' own (the SQLite ledger's files sit in `tmp_path`)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


class Stopped(Exception):
    """What the failing export raises (as a read stopped on quitting would)."""


def _failing_after(calls: int, real: Any) -> Any:
    seen = [0]

    def call(*args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        if seen[0] > calls:
            raise Stopped("stopped half-way")
        return real(*args, **kwargs)

    return call


def test_a_workbook_that_fails_half_way_leaves_the_earlier_file(
        session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_export_world(session)
    folder = _folder(tmp_path)
    target = folder / "ledger.xlsx"
    export_ledger(session, actor=ACTOR, as_of=TODAY, path=target)
    earlier = target.read_bytes()
    assert openpyxl.load_workbook(target, read_only=True).sheetnames[-1] == "Checks"
    assert [p.name for p in folder.iterdir()] == ["ledger.xlsx"]
    # The journal sheet's rows stop coming after a few, as when the app quits meanwhile.
    monkeypatch.setattr(ledger_book, "_write", _failing_after(2, ledger_book._write))
    with pytest.raises(Stopped):
        export_ledger(session, actor=ACTOR, as_of=TODAY, path=target)
    assert target.read_bytes() == earlier
    assert [p.name for p in folder.iterdir()] == ["ledger.xlsx"]
    fresh = folder / "new.xlsx"
    with pytest.raises(Stopped):
        export_ledger(session, actor=ACTOR, as_of=TODAY, path=fresh)
    assert not fresh.exists() and [p.name for p in folder.iterdir()] == ["ledger.xlsx"]


def test_a_csv_table_cut_mid_way_is_not_written(
        session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_export_world(session)
    folder = _folder(tmp_path)
    target = folder / "journal.csv"
    whole = export_csv(session, actor=ACTOR, table="journal", path=target, as_of=TODAY)
    assert whole > 5 and [p.name for p in folder.iterdir()] == ["journal.csv"]
    target.unlink()
    monkeypatch.setattr(csv_export, "csv_cell", _failing_after(20, csv_export.csv_cell))
    with pytest.raises(Stopped):
        export_csv(session, actor=ACTOR, table="journal", path=target, as_of=TODAY)
    assert list(folder.iterdir()) == []


def test_a_failed_workbook_is_given_up_without_being_assembled(
        session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its sheets so far sit in temporary files; zipping them (minutes at a million loans)
    # only to delete the result delayed the failure. They are removed instead.
    build_export_world(session)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assembled: list[object] = []
    store = xlsxwriter.Workbook._store_workbook
    monkeypatch.setattr(xlsxwriter.Workbook, "_store_workbook",
                        lambda book: assembled.append(book) or store(book))
    monkeypatch.setattr(ledger_book, "_write", _failing_after(2, ledger_book._write))
    folder = _folder(tmp_path)
    with pytest.raises(Stopped):
        export_ledger(session, actor=ACTOR, as_of=TODAY, path=folder / "ledger.xlsx")
    assert assembled == []
    assert list(scratch.iterdir()) == [] and list(folder.iterdir()) == []


def test_a_workbook_past_the_plain_zip_limit_is_written_with_zip64(
        session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A national workbook passes the 2 GB a zip holds without ZIP64 records; here the limit
    # is lowered so that a small ledger's workbook passes it too.
    build_export_world(session)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 4096)
    target = _folder(tmp_path) / "ledger.xlsx"
    made = export_ledger(session, actor=ACTOR, as_of=TODAY, path=target)
    assert made.checks_hold
    monkeypatch.undo()
    assert openpyxl.load_workbook(target, read_only=True).sheetnames[-1] == "Checks"
