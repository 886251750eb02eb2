"""`fsf report register` is written as the register is read: a national register (a million
loans) held whole took 2.6 GB before a line came out.

Measured with `tracemalloc` on a ledger of 4,000 loans read 100 at a time, against the same
register held whole; the JSON written row by row is the very text of the whole object."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session

from bench.generate import generate
from ledger.actor import SYSTEM
from ledger.db import make_engine
from ledger.reports import json as js
from ledger.reports import loans as register
from ledger.reports.loans import loan_register, loan_register_rows, loan_status
from tests.support.memory import peak_bytes
from tui.commands.register_out import write_register
from tui.commands.report_cmd import loan_text

LOANS = 4_000
AS_OF = date(2010, 6, 30)


class _Counted(io.TextIOBase):
    """Standard output that keeps nothing, as a terminal or a pipe does."""

    def __init__(self) -> None:
        self.chars = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        self.lines += text.count("\n")
        return len(text)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
def test_the_register_is_written_holding_a_batch_not_the_register(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch, as_json: bool) -> None:
    generate(sqlite_url, LOANS, seed=3, as_of=AS_OF)
    monkeypatch.setattr(register, "REGISTER_BATCH", 100)
    engine = make_engine(sqlite_url)
    out = _Counted()
    try:
        with Session(engine) as session:
            whole = peak_bytes(lambda: loan_register(session, actor=SYSTEM, as_of=AS_OF))
            streamed = peak_bytes(lambda: write_register(
                loan_register_rows(session, actor=SYSTEM, as_of=AS_OF), AS_OF,
                as_json=as_json, out=out))
    finally:
        engine.dispose()
    assert out.lines == (1 if as_json else LOANS + 2)
    assert streamed < whole / 4, (streamed, whole)


def test_the_json_written_row_by_row_is_the_whole_objects_text(sqlite_url: str) -> None:
    generate(sqlite_url, 300, seed=5, as_of=AS_OF)
    engine = make_engine(sqlite_url)
    out = io.StringIO()
    try:
        with Session(engine) as session:
            rows = loan_register(session, actor=SYSTEM, as_of=AS_OF)
            write_register(iter(rows), AS_OF, as_json=True, out=out)
    finally:
        engine.dispose()
    whole = json.dumps(js.register_json(rows, AS_OF), ensure_ascii=False)
    assert out.getvalue() == whole + "\n"
    assert len(json.loads(out.getvalue())["loans"]) == len(rows) > 0


def test_an_empty_register_says_so(sqlite_url: str) -> None:
    out = io.StringIO()
    write_register(iter(()), AS_OF, as_json=False, out=out)
    assert out.getvalue() == "No loan disbursed by then.\n"
    out = io.StringIO()
    write_register(iter(()), AS_OF, as_json=True, out=out)
    assert json.loads(out.getvalue()) == {"as_of": "2010-06-30", "loans": []}


def test_long_overdue_days_are_written_with_thousands_separators(sqlite_url: str) -> None:
    generate(sqlite_url, 50, seed=5, as_of=AS_OF)
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            row = loan_register(session, actor=SYSTEM, as_of=AS_OF)[0]
            status = loan_status(session, actor=SYSTEM, loan_id=row.loan_id, as_of=AS_OF)
    finally:
        engine.dispose()
    out = io.StringIO()  # an abandoned loan, years late
    write_register(iter([replace(row, days_overdue=5986)]), AS_OF, as_json=False, out=out)
    assert out.getvalue().splitlines()[2].split()[-2] == "5,986"
    lines = loan_text(replace(status, days_overdue=5986, bucket="over 365"))
    assert any(line.split() == ["Days", "overdue", "5,986", "(over", "365)"] for line in lines)
