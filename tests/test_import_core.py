"""Importing families, loans and repayments: validated first, committed whole, repeatable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
from sqlmodel import Session

from imports import commit, validate
from imports.feedback import write_feedback
from ledger.services.loan_book import get_loan, load_state
from ledger.verify import verify_ledger
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


def _import(session: Session, kind: str, path: Path) -> tuple[int, int]:
    preview = validate(kind, path, session=session, actor=ACTOR, today=TODAY)
    assert preview.valid, [str(p) for p in preview.problems]
    result = commit(preview, session=session, actor=ACTOR)
    assert not result.problems
    return result.created, result.unchanged


def test_three_kinds_import_and_a_second_import_changes_nothing(
        session: Session, tmp_path: Path) -> None:
    villages = empty_ledger(session)
    fam = write_xlsx(tmp_path / "families.xlsx", FAMILY_HEADERS, families_rows(villages, 4),
                     "families")
    loans = write_csv(tmp_path / "loans.csv", LOAN_HEADERS, [
        [f"L{n}", f"F{n:03d}", "FSF", "150,000", 10, "15/03/2008"] for n in range(1, 5)],
        bom=True)
    due = [date(2008 + (3 + k) // 12, (3 + k) % 12 + 1, 15) for k in range(10)]
    pays = write_xlsx(tmp_path / "repayments.xlsx", PAYMENT_HEADERS, [
        [f"P{n}-{k}", f"L{n}", due[k], 15800.0 if k < 9 else "១៦,១៩០"] for n in range(1, 5)
        for k in range(10 if n == 1 else 9)])
    assert _import(session, "families", fam) == (4, 0)
    assert _import(session, "loans", loans) == (4, 0)
    assert _import(session, "repayments", pays) == (37, 0)
    assert get_loan(session, 1).status == "closed"  # its last installment, in Khmer digits
    state = load_state(session, get_loan(session, 2))
    assert state.outstanding.total == 16_190
    assert verify_ledger(session).ok
    before = counts(session)
    for kind, path in (("families", fam), ("loans", loans), ("repayments", pays)):
        preview = validate(kind, path, session=session, actor=ACTOR, today=TODAY)
        assert preview.valid and preview.created == 0 and preview.unchanged == len(preview.rows)
        result = commit(preview, session=session, actor=ACTOR)
        assert not result.committed and result.created == 0
    assert counts(session) == before


def test_payoff_closes_the_loan_and_a_later_payment_is_refused(
        session: Session, tmp_path: Path) -> None:
    villages = empty_ledger(session)
    _import(session, "families", write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS,
                                            families_rows(villages, 1)))
    _import(session, "loans", write_csv(tmp_path / "l.csv", LOAN_HEADERS, [
        ["L1", "F001", "FSF", 150000, 10, "2008-03-15"]]))
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADERS, [
        ["P1", "L1", "2008-04-15", "15,800"], ["P2", "L1", "2008-05-02", "200,000"]])
    preview = validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
    assert not preview.valid
    (problem,) = preview.problems
    assert problem.row == 3 and problem.column == "amount" and "payoff" in problem.message
    payoff = problem.message.split("than the ")[1].split(" loan")[0]
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADERS, [
        ["P1", "L1", "2008-04-15", "15,800"], ["P2", "L1", "2008-05-02", payoff]])
    assert _import(session, "repayments", path) == (2, 0)
    assert get_loan(session, 1).status == "closed"
    late = write_csv(tmp_path / "late.csv", PAYMENT_HEADERS, [["P3", "L1", "2008-06-01", 100]])
    preview = validate("repayments", late, session=session, actor=ACTOR, today=TODAY)
    assert "closed" in preview.problems[0].message and preview.problems[0].row == 2
    assert verify_ledger(session).ok


def test_a_changed_row_is_a_conflict_never_an_overwrite(session: Session, tmp_path: Path) -> None:
    villages = empty_ledger(session)
    rows = families_rows(villages, 2)
    _import(session, "families", write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS, rows))
    rows[1][1] = "ចាន់ ថា"
    path = write_xlsx(tmp_path / "f2.xlsx", FAMILY_HEADERS, rows)
    preview = validate("families", path, session=session, actor=ACTOR, today=TODAY)
    (problem,) = preview.problems
    assert (problem.row, problem.column, problem.value) == (3, "head_name", "ចាន់ ថា")
    assert "already in the ledger" in problem.message
    assert [r.status for r in preview.rows] == ["unchanged", "error"]
    out = write_feedback(preview, tmp_path / "f2.feedback.xlsx")
    sheet = openpyxl.load_workbook(out).worksheets[0]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:3] == ["status", "message", "family_ref"]
    assert values[1][0] == "unchanged" and values[2][0] == "error"
    assert "head_name" in values[2][1]


def test_an_early_payment_that_would_push_a_recorded_one_above_the_payoff_is_refused(
        session: Session, tmp_path: Path) -> None:
    from ledger.services.repayments import payoff_quote

    villages = empty_ledger(session)
    _import(session, "families", write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS,
                                            families_rows(villages, 1)))
    _import(session, "loans", write_csv(tmp_path / "l.csv", LOAN_HEADERS, [
        ["L1", "F001", "FSF", 150000, 10, "2008-03-15"]]))
    owed = payoff_quote(session, actor=ACTOR, loan_id=1, as_of=date(2008, 6, 10)).amount
    _import(session, "repayments", write_csv(tmp_path / "p.csv", PAYMENT_HEADERS, [
        ["P2", "L1", "2008-06-10", str(int(owed) - 1000)]]))
    before = counts(session)
    early = write_csv(tmp_path / "early.csv", PAYMENT_HEADERS, [
        ["P0", "L1", "2008-05-01", "20,000"]])
    preview = validate("repayments", early, session=session, actor=ACTOR, today=TODAY)
    (problem,) = preview.problems
    assert (problem.row, problem.column) == (2, "paid_on")
    assert "later payments already recorded" in problem.message
    assert counts(session) == before
