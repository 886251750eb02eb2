"""The auditor workbook's Loans sheet is streamed: its memory does not grow with the register.

A national register (a million loans) held whole took 2.6 GB before it was written; read a
batch at a time it takes what one batch takes. Measured here with `tracemalloc` on a ledger
of 4,000 loans read 100 at a time, against the same register held whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from bench.generate import generate
from exports.checks import Tally
from exports.context import ExportContext
from exports.report_sheets import loans_register_sheet
from exports.workbook import Workbook
from ledger.actor import SYSTEM
from ledger.db import make_engine
from ledger.reports import loans as register
from ledger.reports.loans import loan_register
from tests.support.memory import peak_bytes

LOANS = 4_000
AS_OF = date(2010, 6, 30)


def test_the_loans_sheet_holds_one_batch_not_the_register(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(sqlite_url, LOANS, seed=3, as_of=AS_OF)
    monkeypatch.setattr(register, "REGISTER_BATCH", 100)
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            whole = peak_bytes(lambda: loan_register(session, actor=SYSTEM, as_of=AS_OF))
            written: list[int] = []

            def sheet() -> None:
                book = Workbook(tmp_path / "loans.xlsx")
                table = loans_register_sheet(book, ExportContext(session, SYSTEM, AS_OF, None),
                                             Tally())
                book.close()
                written.extend(n for _, n in table.parts)

            streamed = peak_bytes(sheet)
    finally:
        engine.dispose()
    assert written == [LOANS]
    assert streamed < whole / 4, (streamed, whole)
