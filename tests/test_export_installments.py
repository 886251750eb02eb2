"""The auditor workbook's Installments sheet, read back, against each loan replayed one at a time
the way the services do (`load_state`): every amount, date and flag of every installment."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports.ledger_book import export_ledger
from ledger.db.tables import Loan
from ledger.services.loan_book import load_state
from tests.support.world import ACTOR, TODAY
from tests.test_export_support import build_export_world

AMOUNTS = ("Principal due", "Interest due", "Fees and penalties due", "Total due",
           "Principal paid", "Interest paid", "Fees and penalties paid", "Total paid",
           "Waived", "Principal unpaid", "Interest unpaid", "Total unpaid")


def _day(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def test_installments_match_the_replay_of_each_loan(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    out = tmp_path / "ledger.xlsx"
    assert export_ledger(session, actor=ACTOR, as_of=TODAY, path=out).checks_hold
    values = list(openpyxl.load_workbook(out, read_only=True)["Installments"]
                  .iter_rows(values_only=True))
    header = values[0]
    got = [dict(zip(header, r, strict=True)) for r in values[1:]]
    expected: list[dict[str, object]] = []
    loans = session.execute(sa.select(Loan).where(Loan.disbursed_on.is_not(None))
                            .order_by(Loan.id)).scalars().all()
    for loan in loans:
        state = load_state(session, loan, as_of=TODAY)
        for inst in state.installments:
            due, paid, left = inst.due.parts, inst.paid, inst.outstanding
            amounts = (due.principal, due.interest, due.fee + due.penalty, due.total,
                       paid.principal, paid.interest, paid.fee + paid.penalty, paid.total,
                       inst.waived.total, left.principal, left.interest, left.total)
            expected.append({"Loan": loan.ref, "No.": inst.number, "Due date": inst.due_date,
                             **{h: int(a) for h, a in zip(AMOUNTS, amounts, strict=True)},
                             "Fully paid on": inst.fully_paid_on,
                             "On time": "yes" if inst.paid_on_time else "no"})
    assert len(got) == len(expected) > 20
    for row, want in zip(got, expected, strict=True):
        seen = {k: _day(row[k]) if k in ("Due date", "Fully paid on") else row[k]
                for k in want}
        assert seen == want
    # The world has paid, part-paid, unpaid and rescheduled installments to compare.
    assert {r["On time"] for r in got} == {"yes", "no"}
    assert any(r["Total paid"] and r["Total unpaid"] for r in got)
    assert sum(r["Total paid"] for r in got) > 0  # type: ignore[misc]
