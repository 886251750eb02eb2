"""Commands that only read (reports, exports) neither keep an officer waiting nor read a
ledger that changes under them, on SQLite and on PostgreSQL.

An auditor's export takes a minute at 10,000 loans and hours at a million. It held SQLite's
write lock all that time, so a repayment recorded meanwhile was refused as "busy"; on
PostgreSQL each of its queries saw what had been committed by then, so a repayment recorded
between its trial balance and its journal made its own Checks sheet fail."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

import exports.ledger_book as ledger_book
from bench.generate import generate
from bench.posting import rolled_back
from ledger.actor import SYSTEM
from ledger.db import make_engine
from ledger.money import KHR, Money
from ledger.services.repayments import record_repayment
from ledger.users import add_user, authenticate, create_first_admin
from tui.cli import build_app

AS_OF = date(2010, 6, 30)
PASSWORD = "correct horse battery staple"
REF = "PAID-DURING-EXPORT"


def _ledger(url: str) -> int:
    """A generated ledger with an auditor and an officer; the id of a loan a payment may go
    to."""
    generate(url, 150, seed=7, as_of=AS_OF)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            create_first_admin(session, name="admin", password=PASSWORD)
            admin = authenticate(session, name="admin", password=PASSWORD)
            add_user(session, actor=admin, name="ana", roles=["auditor"], password=PASSWORD)
            add_user(session, actor=admin, name="dara", roles=["officer"], password=PASSWORD)
            return int(session.execute(sa.text(
                "SELECT id FROM loan WHERE status = 'active' AND disbursed_on <= :d "
                "ORDER BY id LIMIT 1"), {"d": AS_OF}).scalar_one())
    finally:
        engine.dispose()


def _pay(url: str, loan_id: int) -> None:
    """An officer's repayment, committed, waiting at most 0.3 s for a write lock."""
    engine = make_engine(url, busy_timeout_ms=300)
    try:
        with Session(engine) as session:
            record_repayment(session, actor=SYSTEM, loan_id=loan_id, paid_on=AS_OF,
                             today=AS_OF, amount=Money.from_minor(1_000, KHR), ref=REF)
            session.commit()
    finally:
        engine.dispose()


def test_a_repayment_recorded_while_the_auditor_exports(
        ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loan_id = _ledger(ledger_url)
    written = ledger_book.loans_register_sheet
    outcome: list[Any] = []

    def loans_then_a_payment(*args: Any, **kwargs: Any) -> Any:
        table = written(*args, **kwargs)  # the trial balance and the Loans sheet are read
        try:
            _pay(ledger_url, loan_id)
            outcome.append("recorded")
        except sa.exc.OperationalError as exc:
            outcome.append(exc)
        return table

    monkeypatch.setattr(ledger_book, "loans_register_sheet", loans_then_a_payment)
    out = tmp_path / "audit.xlsx"
    result = CliRunner().invoke(
        build_app(), ["--db", ledger_url, "--user", "ana", "export", "ledger", "--out",
                      str(out), "--as-of", AS_OF.isoformat()], env={"FSF_PASSWORD": PASSWORD})
    assert outcome == ["recorded"], outcome  # the officer was not kept waiting
    assert result.exit_code == 0, result.output
    assert "checks hold" in result.stdout
    book = openpyxl.load_workbook(out, read_only=True)
    try:
        refs = {cell for name in book.sheetnames if name.startswith("Payments")
                for row in book[name].iter_rows(values_only=True) for cell in row}
    finally:
        book.close()
    assert REF not in refs and len(refs) > 100  # the workbook is of the moment it began
    engine = make_engine(ledger_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT COUNT(*) FROM repayment WHERE ref = :r"),
                                      {"r": REF}).scalar_one() == 1
    finally:
        engine.dispose()


# Commands that only read, each with what its output must show.
READING = (
    (["report", "portfolio", "--as-of", AS_OF.isoformat(), "--json"], '"active_loans"'),
    (["report", "training", "skills", "--as-of", AS_OF.isoformat()], "Skill"),
    (["report", "training", "follow-ups", "--as-of", AS_OF.isoformat()], "ollow"),
    (["household", "show", "--family", "F0000001"], "F0000001"),
    (["project", "--family", "F0000001", "--scenarios", "50", "--json"], '"family"'),
)


def test_reading_commands_run_while_a_repayment_is_being_written(ledger_url: str) -> None:
    loan_id = _ledger(ledger_url)
    grid = CliRunner().invoke(build_app(), [
        "--db", ledger_url, "--user", "dara", "household", "record", "--family", "F0000001",
        "--income", "farming=400000", "--expense", "food=250000", "--on", "2010-06-01"],
        env={"FSF_PASSWORD": PASSWORD, "FSF_TODAY": AS_OF.isoformat()})
    assert grid.exit_code == 0, grid.output
    engine = make_engine(ledger_url)
    results = []
    try:
        with Session(engine) as officer, rolled_back(officer):  # a use case under way
            record_repayment(officer, actor=SYSTEM, loan_id=loan_id, paid_on=AS_OF,
                             today=AS_OF, amount=Money.from_minor(1_000, KHR), ref=REF)
            for args, shown in READING:
                result = CliRunner().invoke(
                    build_app(), ["--db", ledger_url, "--user", "dara", *args],
                    env={"FSF_PASSWORD": PASSWORD, "FSF_BUSY_TIMEOUT_MS": "300",
                         "FSF_TODAY": AS_OF.isoformat()})
                results.append((args[:2], result.exit_code, shown in result.stdout,
                                result.output[-200:]))
    finally:
        engine.dispose()
    assert all(code == 0 and seen for _, code, seen, _ in results), results
