"""Bad input gets a clear problem naming row, column and value, and changes nothing."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import Session

from imports import MAX_FILE_BYTES, commit, validate
from tests.import_support import (
    FAMILY_HEADERS,
    LOAN_HEADERS,
    PAYMENT_HEADERS,
    TODAY,
    counts,
    empty_ledger,
    families_rows,
    write_csv,
    write_xlsx,
)
from tests.support.world import ACTOR

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _refused(session: Session, kind: str, path: Path) -> list[Any]:
    """Validate and try to commit; assert nothing changed; return the problems."""
    before = counts(session)
    preview = validate(kind, path, session=session, actor=ACTOR, today=TODAY)
    result = commit(preview, session=session, actor=ACTOR)
    assert not preview.valid and not result.committed
    assert counts(session) == before
    return list(preview.problems)


@pytest.fixture
def ledger(session: Session, tmp_path: Path) -> tuple[Session, list[str], Path]:
    villages = empty_ledger(session)
    fam = write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS, families_rows(villages, 2))
    commit(validate("families", fam, session=session, actor=ACTOR, today=TODAY),
           session=session, actor=ACTOR)
    loans = write_csv(tmp_path / "l.csv", LOAN_HEADERS,
                      [["L1", "F001", "FSF", 150000, 10, "2008-03-15"]])
    commit(validate("loans", loans, session=session, actor=ACTOR, today=TODAY),
           session=session, actor=ACTOR)
    return session, villages, tmp_path


def _one(problems: list[Any], text: str) -> Any:
    found = [p for p in problems if text in p.message]
    assert found, [str(p) for p in problems]
    return found[0]


def test_files_that_are_not_tables(ledger: tuple[Session, list[str], Path]) -> None:
    session, _, d = ledger
    (d / "empty.csv").write_bytes(b"")
    _one(_refused(session, "families", d / "empty.csv"), "empty")
    only = write_xlsx(d / "headers.xlsx", FAMILY_HEADERS, [])
    _one(_refused(session, "families", only), "no data rows")
    (d / "old.xls").write_bytes(OLE + b"\0" * 600)
    _one(_refused(session, "families", d / "old.xls"), "save it as .xlsx")
    (d / "old-named.xlsx").write_bytes(OLE + b"\0" * 600)
    _one(_refused(session, "families", d / "old-named.xlsx"), "save it as .xlsx")
    (d / "locked.xlsx").write_bytes(OLE + b"\0" * 64 + "EncryptionInfo".encode("utf-16-le"))
    _one(_refused(session, "families", d / "locked.xlsx"), "password")
    with zipfile.ZipFile(d / "letter.xlsx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    _one(_refused(session, "families", d / "letter.xlsx"), "Word document")
    big = d / "big.xlsx"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    assert big.stat().st_size > MAX_FILE_BYTES
    _one(_refused(session, "families", big), "limit is 20 MB")
    (d / "latin1.csv").write_bytes("family_ref,head_name\nF9,Sánchez\n".encode("latin-1"))
    _one(_refused(session, "families", d / "latin1.csv"), "UTF-8")
    two = openpyxl.Workbook()
    two.active.title = "Sheet A"  # type: ignore[union-attr]
    two.create_sheet("Sheet B")
    two.save(d / "two.xlsx")
    _one(_refused(session, "families", d / "two.xlsx"), "none is called 'families'")


def test_layout_problems(ledger: tuple[Session, list[str], Path]) -> None:
    session, villages, d = ledger
    rows = families_rows(villages, 3)
    path = write_xlsx(d / "formula.xlsx", FAMILY_HEADERS, rows)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet["F3"] = "=2+3"
    sheet.merge_cells("B4:C4")
    book.save(path)
    problems = _refused(session, "families", path)
    formula = _one(problems, "formula")
    assert (formula.row, formula.column) == (3, "household_size")
    merged = _one(problems, "merged")
    assert (merged.row, merged.column, merged.value) == (4, "head_name", "B4:C4")
    missing = write_csv(d / "missing.csv", ["family_ref", "head_name", "colour"], [["F9", "x", 1]])
    problems = _refused(session, "families", missing)
    assert {p.column for p in problems if "required column" in p.message} == {
        "sex", "household_size", "village_code", "registered_on"}
    _one(problems, "unknown column 'colour'")
    assert all(p.row in (1, None) for p in problems)  # no row was read


def test_family_cells(ledger: tuple[Session, list[str], Path]) -> None:
    session, villages, d = ledger
    rows = families_rows(villages, 5)
    rows = [[f"N{r[0]}", *r[1:]] for r in rows]
    rows[1][0] = rows[0][0]  # duplicated ref
    rows[2][7] = "99999999"  # not a village
    rows[3][5] = "ប្រាំ"  # Khmer text in a number column
    rows[4][8] = "31/02/2008"  # impossible date
    path = write_csv(d / "bad.csv", FAMILY_HEADERS, rows)
    problems = _refused(session, "families", path)
    assert (_one(problems, "also on row 2").row) == 3
    village = _one(problems, "not a village code")
    assert (village.row, village.column, village.value) == (4, "village_code", "99999999")
    khmer = _one(problems, "not a whole number")
    assert (khmer.row, khmer.column, khmer.value) == (5, "household_size", "ប្រាំ")
    when = _one(problems, "not a date that exists")
    assert (when.row, when.column) == (6, "registered_on")


def test_loan_and_repayment_references(ledger: tuple[Session, list[str], Path]) -> None:
    session, _, d = ledger
    loans = write_csv(d / "loans.csv", LOAN_HEADERS, [
        ["L2", "F404", "FSF", 150000, 10, "2008-03-15"],
        ["L3", "F002", "FSF", 250000, 10, "2008-03-15"],
        ["L4", "F002", "XYZ", 150000, 10, "2008-03-15"],
        ["L1", "F001", "FSF", 160000, 10, "2008-03-15"]])
    problems = _refused(session, "loans", loans)
    assert _one(problems, "family 'F404' is not in the ledger").row == 2
    limits = _one(problems, "outside FSF's limits")
    assert (limits.row, limits.column) == (3, "principal")
    assert _one(problems, "'XYZ' is not a loan product").row == 4
    assert _one(problems, "already in the ledger").column == "principal"
    pays = write_xlsx(d / "pays.xlsx", PAYMENT_HEADERS, [
        ["P1", "L9", date(2008, 4, 15), 15800],
        ["P2", "L1", date(2008, 3, 1), 15800],
        ["P3", "L1", date(2008, 4, 15), 1500.5],
        ["P4", "L1", date(2008, 4, 15), -100],
        ["P5", "L1", date(2008, 4, 15), 900_000],
        ["P6", "L1", date(2010, 4, 15), 100]])
    problems = _refused(session, "repayments", pays)
    assert _one(problems, "'L9' is not in the ledger").row == 2
    assert _one(problems, "before loan L1 was paid out").row == 3
    assert _one(problems, "not a whole number of riel").value == "1500.5"
    assert _one(problems, "negative").row == 5
    assert _one(problems, "payoff amount").row == 6
    assert _one(problems, "in the future").row == 7
