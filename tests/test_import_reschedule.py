"""A repayments file with a payment dated on or before its loan's last reschedule is refused
at validation, on that row's paid_on, as posting would refuse it; later payments stay valid."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from imports import commit, validate
from imports.kinds import repayments
from ledger.db.tables import Loan
from ledger.services.loan_book import last_reschedules
from ledger.services.reschedule import reschedule_loan
from tests.import_support import (
    FAMILY_HEADERS,
    LOAN_HEADERS,
    PAYMENT_HEADERS,
    TODAY,
    empty_ledger,
    families_rows,
    import_ok,
    write_csv,
    write_xlsx,
)
from tests.support.world import ACTOR

HEADERS = [*PAYMENT_HEADERS, "currency"]
RESCHEDULED_ON = date(2008, 6, 20)



@pytest.fixture
def ledger(session: Session, tmp_path: Path) -> Session:
    """Two riel loans; L2 rescheduled on RESCHEDULED_ON."""
    villages = empty_ledger(session)
    import_ok(session, "families", write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS,
                                            families_rows(villages, 2)))
    import_ok(session, "loans", write_csv(tmp_path / "l.csv", LOAN_HEADERS, [
        [f"L{n}", f"F00{n}", "FSF", 150000, 10, "2008-03-15"] for n in (1, 2)]))
    loan = session.exec(select(Loan).where(Loan.ref == "L2")).one()
    assert loan.id is not None
    reschedule_loan(session, actor=ACTOR, loan_id=loan.id, on=RESCHEDULED_ON, today=TODAY,
                    repayments=12, reason="flood")
    session.commit()
    ids = [loan.id, loan.id + 1, loan.id - 1, 999]
    assert last_reschedules(session, ids) == {loan.id: RESCHEDULED_ON}
    assert last_reschedules(session, []) == {}
    session.rollback()
    return session


@pytest.mark.parametrize("columns", [True, False], ids=["columns", "rows"])
def test_a_payment_before_the_reschedule_is_named_at_validation(
        ledger: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: bool) -> None:
    if not columns:
        monkeypatch.delattr(repayments, "check_table")
    rows: list[list[Any]] = [["P1", "L1", "2008-05-15", "20,000", "KHR"],
                             ["P2", "L2", "2008-06-20", "20,000", "KHR"],
                             ["P3", "L2", "2008-07-15", "20,000", "KHR"]]
    path = write_xlsx(tmp_path / "p.xlsx", HEADERS, rows)
    preview = validate("repayments", path, session=ledger, actor=ACTOR, today=TODAY)
    assert not preview.valid
    (problem,) = preview.problems
    assert (problem.row, problem.column, problem.value) == (3, "paid_on", "2008-06-20")
    assert "rescheduled on 2008-06-20" in problem.message
    assert [r.status for r in preview.rows] == ["new", "error", "new"]
    assert [p.ref for p in preview.plan or ()] == ["P1", "P3"]
    # Without that row the file is valid and posts.
    path = write_xlsx(tmp_path / "q.xlsx", HEADERS, [rows[0], rows[2]])
    preview = validate("repayments", path, session=ledger, actor=ACTOR, today=TODAY)
    assert preview.valid, [str(p) for p in preview.problems]
    assert commit(preview, session=ledger, actor=ACTOR).created == 2
