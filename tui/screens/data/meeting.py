"""A village meeting's collection sheet: each active loan of the village, what falls due in the
month, what is overdue, and what would close it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.allocation import payoff_amount
from ledger.db.tables import Loan, core_table
from ledger.money import Money, get_currency
from ledger.services.loan_book import load_states

__all__ = ["SheetLine", "collection_lines", "villages_with_loans"]


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One loan on the sheet: due this month, overdue before it, and the payoff amount."""

    loan_id: int
    loan_ref: str
    family_ref: str
    name: str
    name_latin: str
    due: Money
    overdue: Money
    payoff: Money

    @property
    def expected(self) -> Money:
        """What the treasurer expects: what falls due this month plus what is overdue."""
        return self.due + self.overdue


def villages_with_loans(session: Session) -> list[tuple[int, str, str, int]]:
    """Villages that have active loans: (id, English name, Khmer name, active loans)."""
    loan, fam, vil = core_table("loan"), core_table("family"), core_table("village")
    rows = session.execute(
        sa.select(vil.c.id, vil.c.name_en, vil.c.name_kh, sa.func.count(loan.c.id))
        .join(fam, fam.c.village_id == vil.c.id).join(loan, loan.c.family_id == fam.c.id)
        .where(loan.c.status == "active").group_by(vil.c.id, vil.c.name_en, vil.c.name_kh)
        .order_by(vil.c.name_en)).all()
    return [(int(i), en, kh, int(n)) for i, en, kh, n in rows]


def collection_lines(session: Session, *, village_id: int, year: int, month: int,
                     as_of: date) -> list[SheetLine]:
    """The sheet for a village and month, family by family (by reference)."""
    fam = core_table("family")
    rows = session.execute(
        sa.select(Loan, fam.c.ref, fam.c.head_name, fam.c.head_name_latin)
        .join(fam, fam.c.id == Loan.family_id)  # type: ignore[arg-type]
        .where(fam.c.village_id == village_id, Loan.status == "active")  # type: ignore[arg-type]
        .order_by(fam.c.ref, Loan.id)).all()
    states = load_states(session, [row[0] for row in rows])
    first = date(year, month, 1)
    out = []
    for loan, family_ref, name, name_latin in rows:
        assert loan.id is not None
        cur = get_currency(loan.currency)
        state = states[loan.id].until(as_of)
        zero = Money.zero(cur).amount
        due = sum((i.outstanding.total for i in state.installments
                   if (i.due_date.year, i.due_date.month) == (year, month)), zero)
        overdue = sum((i.outstanding.total for i in state.installments if i.due_date < first),
                      zero)
        out.append(SheetLine(loan.id, loan.ref, family_ref, name, name_latin or name,
                             Money(due, cur), Money(overdue, cur),
                             Money(payoff_amount(state, as_of), cur)))
    return out
