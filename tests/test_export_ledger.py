"""The auditor workbook read back with openpyxl and compared with the ledger's own reports;
hostile names stay text; the row limit splits sheets; LibreOffice recomputes every check."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports.ledger_book import export_ledger
from ledger.db.tables import core_table
from ledger.journal import balances_by_account
from ledger.reports.loans import loan_register
from ledger.verify import verify_ledger
from tests.support.world import ACTOR, TODAY
from tests.test_export_support import HOSTILE, build_export_world, recalculated_csvs

SHEETS = ["Summary", "Loans", "Installments", "Payments", "Journal", "General ledger",
          "Trial balance", "Training outcomes", "Checks"]


def _rows(ws: object) -> list[dict[str, object]]:
    values = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
    header = values[0]
    return [dict(zip(header, r, strict=False)) for r in values[1:]]


def _cells(book: openpyxl.Workbook) -> list[object]:
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_every_sheet_ties_to_the_ledger(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    out = tmp_path / "ledger.xlsx"
    result = export_ledger(session, actor=ACTOR, as_of=TODAY, path=out)
    assert result.checks_hold
    book = openpyxl.load_workbook(out)
    for name in SHEETS:
        assert name in book.sheetnames
    # Loans = loan_register, row for row.
    register = loan_register(session, actor=ACTOR, as_of=TODAY)
    loans = _rows(book["Loans"])
    assert [r["Loan"] for r in loans] == [r.ref for r in register]
    for row, rep in zip(loans, register, strict=True):
        assert row["Outstanding principal"] == rep.outstanding_principal.minor
        assert row["Overdue"] == rep.overdue.minor
        assert row["Days late"] == rep.days_overdue and row["Status"] == rep.status
        assert row["Head of family"] == rep.family_name
    assert "renegotiated" in {r["Status"] for r in loans}
    assert book["Loans"]["H2"].number_format == '#,##0 "៛"'
    assert book["Loans"].freeze_panes == "A2" and book["Loans"].auto_filter.ref
    # Trial balance = the journal's balances.
    acct = core_table("account")
    codes = dict(session.execute(sa.select(acct.c.id, acct.c.code)).all())
    balances = {codes[i]: m.minor for i, m in balances_by_account(session, TODAY).items()}
    tb = {r["Account"]: int(r["Debit"]) - int(r["Credit"]) for r in _rows(book["Trial balance"])}
    assert {k: v for k, v in tb.items() if v} == {k: v for k, v in balances.items() if v}
    # Journal: one row per posting, debits = credits.
    journal = _rows(book["Journal"])
    assert len(journal) == session.execute(sa.select(sa.func.count()).select_from(
        core_table("posting"))).scalar_one()
    assert sum(r["Debit"] or 0 for r in journal) == sum(r["Credit"] or 0 for r in journal)
    assert all(isinstance(r["Hash"], str) and len(r["Hash"]) == 64 for r in journal)
    # Payments: every repayment, the reversed one marked.
    payments = _rows(book["Payments"])
    assert Counter(r["Reversed"] for r in payments) == {"no": 4, "yes": 1}
    # Installments: unpaid principal of loans not written off = the portfolio account.
    unpaid = sum(r["Principal unpaid"] for r in _rows(book["Installments"]))
    assert unpaid == balances["RIEL.loans"] == sum(r.outstanding_principal.minor
                                                   for r in register)
    # Summary names the chain head fsf verify reports.
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=3, values_only=True)}
    report = verify_ledger(session)
    assert summary["Last entry hash"] == report.last_hash
    assert summary["Last entry seq"] == report.last_seq
    assert summary["Exported by"] == ACTOR.name
    # Dates are dates, not text.
    assert book["Journal"]["B2"].is_date
    # Checks: formulas, each cached TRUE.
    checks = book["Checks"]
    holds = [row[4] for row in checks.iter_rows(min_row=2)]
    assert holds and all(str(c.value).startswith("=") for c in holds)
    cached = openpyxl.load_workbook(out, data_only=True)["Checks"]
    assert all(row[4] is True for row in cached.iter_rows(min_row=2, values_only=True))


def test_hostile_text_is_never_a_formula(sqlite_url: str, tmp_path: Path) -> None:
    from ledger.db import make_engine

    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        build_export_world(session)
        out = tmp_path / "hostile.xlsx"
        export_ledger(session, actor=ACTOR, as_of=TODAY, path=out)
    engine.dispose()
    book = openpyxl.load_workbook(out)
    cells = _cells(book)
    texts = {c.value for c in cells if c.data_type == "s"}
    for name in (HOSTILE[0], HOSTILE[1], "=F900", "@F901", "-L900", "@counted twice",
                 HOSTILE[2], HOSTILE[3]):
        assert name in texts, name
    formulas = [(c.parent.title, c.value) for c in cells if c.data_type == "f"]
    assert {sheet for sheet, _ in formulas} == {"Checks"}
    assert not any("HYPERLINK" in str(v) or "SUM(1)" in str(v) for _, v in formulas)


def test_row_limit_continues_on_a_second_sheet(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    out = tmp_path / "split.xlsx"
    result = export_ledger(session, actor=ACTOR, as_of=TODAY, path=out, max_rows=6)
    book = openpyxl.load_workbook(out)
    parts = [n for n in book.sheetnames if n == "Journal" or n.startswith("Journal (")]
    assert parts[:2] == ["Journal", "Journal (2)"]
    postings = session.execute(sa.select(sa.func.count()).select_from(
        core_table("posting"))).scalar_one()
    assert sum(book[p].max_row - 1 for p in parts) == postings
    assert all(book[p].max_row <= 6 for p in parts)
    assert dict(result.sheets)["Journal (2)"] == 5
    assert "'Journal (2)'!" in str(book["Checks"]["C4"].value)
    assert result.checks_hold


def test_libreoffice_recomputes_every_check(sqlite_url: str, tmp_path: Path) -> None:
    """No cached results: every TRUE below is LibreOffice's own arithmetic, over split sheets."""
    from ledger.db import make_engine

    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        build_export_world(session)
        out = tmp_path / "recalc.xlsx"
        export_ledger(session, actor=ACTOR, as_of=TODAY, path=out, max_rows=8,
                      cache_results=False)
        portfolio = sum(m.minor for i, m in balances_by_account(session, TODAY).items()
                        if i == session.execute(sa.select(core_table("account").c.id).where(
                            core_table("account").c.role == "loan_portfolio")).scalar_one())
    engine.dispose()
    raw = openpyxl.load_workbook(out, data_only=True)["Checks"]
    assert not any(row[4] is True for row in raw.iter_rows(min_row=2, values_only=True))
    sheets = recalculated_csvs(out, tmp_path)
    checks = sheets["Checks"]
    assert checks[0] == ["Check", "Currency", "Figure", "Should equal", "Holds"]
    assert len(checks) > 8
    assert all(row[4] == "TRUE" for row in checks[1:]), checks
    by_name = {row[0]: row for row in checks[1:]}
    row = by_name["Portfolio = Σ outstanding principal on Loans"]
    assert Decimal(row[2]) == Decimal(row[3]) == portfolio


def test_pseudonymised_copy_has_codes_and_no_private_columns(session: Session,
                                                              tmp_path: Path) -> None:
    from ledger.privacy import pseudonym, pseudonym_secret

    world = build_export_world(session)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    export_ledger(session, actor=ACTOR, as_of=TODAY, path=first, pseudonymise=True)
    export_ledger(session, actor=ACTOR, as_of=TODAY, path=second, pseudonymise=True)
    texts = [str(c.value) for c in _cells(openpyxl.load_workbook(first)) if c.value]
    joined = "\n".join(texts)
    for secret in ("សុខ", "Sok", HOSTILE[0], HOSTILE[1], "ID-SECRET", "Thailand", "=F900",
                   "calc", "counted twice"):
        assert secret not in joined, secret
    code = pseudonym(pseudonym_secret(session), "family", world.families[0])
    loans_a = _rows(openpyxl.load_workbook(first)["Loans"])
    loans_b = _rows(openpyxl.load_workbook(second)["Loans"])
    assert code in {r["Family"] for r in loans_a}
    assert [r["Family"] for r in loans_a] == [r["Family"] for r in loans_b]
    assert "Head of family" not in loans_a[0]
    assert "pseudonymised" in joined.lower() or "Pseudonymised" in joined


@pytest.mark.parametrize("as_of_text", ["2008-03-31"])
def test_as_of_leaves_later_entries_out(session: Session, tmp_path: Path,
                                        as_of_text: str) -> None:
    from datetime import date

    build_export_world(session)
    day = date.fromisoformat(as_of_text)
    out = tmp_path / "early.xlsx"
    result = export_ledger(session, actor=ACTOR, as_of=day, path=out)
    assert result.checks_hold
    book = openpyxl.load_workbook(out)
    dates = [r["Date"].date() for r in _rows(book["Journal"])]
    assert dates and max(dates) <= day
    assert {r["Loan"] for r in _rows(book["Loans"])} == {
        r.ref for r in loan_register(session, actor=ACTOR, as_of=day)}
