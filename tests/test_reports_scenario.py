"""A hand-worked portfolio, every figure checked against arithmetic done by hand.

Six families each borrow 150,000 riel at 1 % a month over ten months, disbursed 2008-01-15, so
installments fall due on the 15th: 15,800 riel each (interest 1,500, 1,357, 1,213, 1,067, …;
principal 14,300, 14,443, 14,587, 14,733, 14,881, …). As of 2008-06-14:

- A pays installments 1–3 on their due dates and not the 4th (due 2008-05-15): exactly 30
  days overdue — in PAR30 by default, out of it with "> 30".
- B pays the 1st, misses the 2nd, is rescheduled on 2008-03-20 over six months and pays both
  new installments on their dates: current but renegotiated, so still in PAR1/30/90.
- C pays the 1st only and is written off on 2008-06-01 (in the period from June).
- D pays half of each installment (7,900) on the due dates: 31,600 paid settles installments
  1–2 exactly, so the 3rd (due 2008-04-15) is 60 days overdue.
- E pays early: 15,800 on 02-01, 31,600 on 03-01, 15,800 on 05-10 and on 06-10.
- F pays the 1st and pays the loan off on 2008-03-10.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.actor import Actor, PermissionDenied, Role
from ledger.db.tables import Loan
from ledger.reports import (
    collection_sheet,
    family_statement,
    fund_position,
    loan_loss_reserve,
    loan_register,
    loan_status,
    portfolio_quality,
    set_reserve_rate,
    villages_report,
)
from ledger.reports.json import portfolio_json
from ledger.services.errors import NotFound, ServiceError
from ledger.services.repayments import payoff_quote, record_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import write_off_loan
from tests.support.world import ACTOR, TODAY, build_world, riel

D = date(2008, 6, 14)
ON = date(2008, 1, 15)
PRINCIPAL = (14300, 14443, 14587, 14733, 14881, 15029, 15180, 15332, 15485, 16030)


def build_scenario(session: Session) -> dict[str, int]:
    """The six loans above, through the services."""
    world = build_world(session, families=6)
    ids = {name: world.loan(fam, 150_000, repayments=10, on=ON, ref=f"L-{name}")
           for name, fam in zip("ABCDEF", world.families, strict=True)}

    def pay(name: str, on: date, amount: int) -> None:
        record_repayment(session, actor=ACTOR, loan_id=ids[name], amount=riel(amount),
                         paid_on=on, today=TODAY)

    for month in (2, 3, 4):
        pay("A", date(2008, month, 15), 15_800)
    pay("B", date(2008, 2, 15), 15_800)
    reschedule_loan(session, actor=ACTOR, loan_id=ids["B"], on=date(2008, 3, 20), today=TODAY,
                    repayments=6, reason="flood")
    for month in (4, 5):
        due = loan_status(session, actor=ACTOR, loan_id=ids["B"], as_of=date(2008, month, 20))
        assert due.next_due_date == date(2008, month, 20)
        pay("B", due.next_due_date, int(due.next_due_amount.amount))
    pay("C", date(2008, 2, 15), 15_800)
    write_off_loan(session, actor=ACTOR, loan_id=ids["C"], on=date(2008, 6, 1), today=TODAY,
                   reason="moved away")
    for month in (2, 3, 4, 5):
        pay("D", date(2008, month, 15), 7_900)
    for on, amount in ((date(2008, 2, 1), 15_800), (date(2008, 3, 1), 31_600),
                       (date(2008, 5, 10), 15_800), (date(2008, 6, 10), 15_800)):
        pay("E", on, amount)
    pay("F", date(2008, 2, 15), 15_800)
    quote = payoff_quote(session, actor=ACTOR, loan_id=ids["F"], as_of=date(2008, 3, 10))
    pay("F", date(2008, 3, 10), int(quote.amount))
    return ids


def _b_outstanding(session: Session, ids: dict[str, int]) -> int:
    return int(loan_status(session, actor=ACTOR, loan_id=ids["B"],
                           as_of=D).outstanding_principal.amount)


def test_hand_worked_loans(session: Session) -> None:
    ids = build_scenario(session)
    a = loan_status(session, actor=ACTOR, loan_id=ids["A"], as_of=D)
    assert (a.status, a.days_overdue, a.bucket) == ("active", 30, "1–30")
    assert a.outstanding_principal.amount == 150_000 - sum(PRINCIPAL[:3])  # 106,670
    assert a.overdue.amount == 15_800 and a.interest_due.amount == 1_067
    assert (a.next_due_date, a.next_due_amount.amount) == (date(2008, 6, 15), 15_800)
    # Payoff on 06-14: installment 4 in full, the interest of the 5th (its period holds the
    # day) and the principal left.
    assert a.payoff.amount == 15_800 + 919 + 150_000 - sum(PRINCIPAL[:4])
    d = loan_status(session, actor=ACTOR, loan_id=ids["D"], as_of=D)
    assert (d.days_overdue, d.bucket, d.oldest_due) == (60, "31–60", date(2008, 4, 15))
    assert d.overdue.amount == 31_600
    assert d.outstanding_principal.amount == 150_000 - sum(PRINCIPAL[:2])
    e = loan_status(session, actor=ACTOR, loan_id=ids["E"], as_of=D)
    assert (e.status, e.days_overdue, e.overdue.amount) == ("active", 0, 0)
    assert e.outstanding_principal.amount == 150_000 - sum(PRINCIPAL[:5])
    assert (e.next_due_date, e.next_due_amount.amount) == (date(2008, 7, 15), 15_800)
    b = loan_status(session, actor=ACTOR, loan_id=ids["B"], as_of=D)
    assert (b.status, b.days_overdue) == ("renegotiated", 0)
    before = loan_status(session, actor=ACTOR, loan_id=ids["B"], as_of=date(2008, 3, 19))
    assert (before.status, before.days_overdue) == ("active", 4)  # the old schedule then
    f = loan_status(session, actor=ACTOR, loan_id=ids["F"], as_of=D)
    assert (f.status, f.outstanding_principal.amount, f.payoff.amount) == ("closed", 0, 0)
    c = loan_status(session, actor=ACTOR, loan_id=ids["C"], as_of=D)
    assert c.status == "written_off"
    early = loan_status(session, actor=ACTOR, loan_id=ids["A"], as_of=date(2007, 12, 31))
    assert early.status == "not_disbursed" and early.outstanding_principal.amount == 0


def test_hand_worked_portfolio(session: Session) -> None:
    ids = build_scenario(session)
    b = _b_outstanding(session, ids)
    a, d, e = (150_000 - sum(PRINCIPAL[:n]) for n in (3, 2, 5))
    p = portfolio_quality(session, actor=ACTOR, as_of=D, period_start=date(2008, 6, 1))
    assert p.gross_portfolio.amount == a + b + d + e
    assert p.active_loans == 4 and p.renegotiated_loans == 1
    par = {x.threshold: x for x in p.par}
    assert (par[1].loans, par[1].value.amount) == (3, a + b + d)
    assert (par[30].loans, par[30].value.amount) == (3, a + b + d)
    assert (par[90].loans, par[90].value.amount) == (1, b)
    assert par[30].rate.value == Decimal(a + b + d) / Decimal(a + b + d + e)
    strict = portfolio_quality(session, actor=ACTOR, as_of=D, par_boundary=">")
    assert {x.threshold: x.value.amount for x in strict.par}[30] == b + d  # A leaves PAR30
    buckets = {x.bucket: (x.loans, int(x.value.amount)) for x in p.buckets}
    assert buckets["current"] == (2, b + e)
    assert buckets["1–30"] == (1, a) and buckets["31–60"] == (1, d)
    assert buckets["61–90"] == (0, 0) and buckets["over 365"] == (0, 0)
    # Written off in June: C's principal left (150,000 − 14,300) over the average of the
    # portfolio on 05-31 (C still in it, E before its 06-10 payment) and on 06-14.
    assert p.written_off_in_period.amount == 135_700 and p.loans_written_off_in_period == 1
    opening = a + b + d + e + PRINCIPAL[4] + 135_700
    assert p.write_off_ratio.value == Decimal(135_700) / ((opening + a + b + d + e) / Decimal(2))
    # Nothing fell due from 06-01 to 06-14: the on-time rate is undefined, not 0 or 100.
    assert p.on_time_rate.value is None and portfolio_json(p)["on_time"]["rate"] is None
    may = portfolio_quality(session, actor=ACTOR, as_of=D, period_start=date(2008, 5, 1))
    b2 = int(loan_status(session, actor=ACTOR, loan_id=ids["B"],
                         as_of=date(2008, 5, 20)).next_due_amount.amount)
    # Fell due in May: A, C, D, E on 05-15 (15,800 each; only E paid it, early) and B's
    # second new installment on 05-20 (paid that day). F had closed.
    assert may.due_in_period.amount == 4 * 15_800 + b2
    assert may.paid_on_time.amount == 15_800 + b2


def test_reserve_fund_villages_and_collection(session: Session) -> None:
    ids = build_scenario(session)
    a, d = 150_000 - sum(PRINCIPAL[:3]), 150_000 - sum(PRINCIPAL[:2])
    r = loan_loss_reserve(session, actor=ACTOR, as_of=D)
    lines = {x.bucket: x for x in r.lines}
    assert lines["1–30"].required.amount == (Decimal(a) / 10).quantize(Decimal(1))
    assert lines["31–60"].required.amount == (Decimal(d) / 4).quantize(Decimal(1))
    assert r.required.amount == lines["1–30"].required.amount + lines["31–60"].required.amount
    set_reserve_rate(session, actor=ACTOR, bucket="1-30", rate=Decimal(20))
    again = {x.bucket: x for x in loan_loss_reserve(session, actor=ACTOR, as_of=D).lines}
    assert again["1–30"].rate_pct == 20
    with pytest.raises(ServiceError):
        set_reserve_rate(session, actor=ACTOR, bucket="2-29", rate=Decimal(5))
    clerk = Actor("clerk", frozenset({Role.OFFICER}))
    with pytest.raises(PermissionDenied):
        set_reserve_rate(session, actor=clerk, bucket="current", rate=Decimal(1))

    f = fund_position(session, actor=ACTOR, as_of=D)
    assert f.capital.amount == 10_000_000 and f.written_off.amount == 135_700
    assert f.portfolio == portfolio_quality(session, actor=ACTOR, as_of=D).gross_portfolio
    received = session.execute(sa.text("SELECT sum(amount_minor) FROM repayment")).scalar_one()
    assert f.cash.amount == 10_000_000 - 6 * 150_000 + received
    performing = f.portfolio.amount - (a + d + _b_outstanding(session, ids))
    assert f.performing_portfolio.amount == performing
    assert f.erosion.value == (Decimal(f.capital.amount - f.cash.amount - performing)
                               / f.capital.amount)

    v = villages_report(session, actor=ACTOR, as_of=D, sort="outstanding")
    assert v.total.families == 6 and v.total.active_loans == 4
    assert v.total.disbursed.amount == 6 * 150_000
    assert [x.outstanding for x in v.villages] == sorted((x.outstanding for x in v.villages),
                                                         key=lambda m: -m.amount)
    assert sum(x.outstanding.amount for x in v.districts) == v.total.outstanding.amount

    code = next(r.village_code for r in loan_register(session, actor=ACTOR, as_of=D)
                if r.ref == "L-A")
    assert code is not None
    sheet = collection_sheet(session, actor=ACTOR, village_code=code, month="2008-06")
    rows = {r.loan_ref: r for r in sheet.rows}
    assert set(rows) == {"L-A", "L-D"}  # families 1 and 4 live in the first village
    assert (rows["L-A"].arrears.amount, rows["L-A"].due_this_month.amount) == (15_800, 15_800)
    assert (rows["L-D"].arrears.amount, rows["L-D"].to_collect.amount) == (31_600, 47_400)
    assert (rows["L-D"].last_paid_on, rows["L-D"].last_paid.amount) == (date(2008, 5, 15),
                                                                         7_900)
    assert sheet.to_collect.amount == 15_800 * 2 + 47_400
    with pytest.raises(NotFound):
        collection_sheet(session, actor=ACTOR, village_code="nowhere", month="2008-06")
    treasurer = Actor("t", frozenset({Role.TREASURER}), villages=frozenset({"other"}))
    with pytest.raises(ServiceError):
        collection_sheet(session, actor=treasurer, village_code=code, month="2008-06")
    assert portfolio_quality(session, actor=treasurer, as_of=D).active_loans == 0
    mine = Actor("t", frozenset({Role.TREASURER}), villages=frozenset({code}))
    assert portfolio_quality(session, actor=mine, as_of=D).active_loans == 2
    with pytest.raises(PermissionDenied, match=f"sees only villages {code}, and the fund "
                       "position covers every village: ask an officer or administrator"):
        fund_position(session, actor=mine, as_of=D)

    loan_d = session.get(Loan, ids["D"])
    assert loan_d is not None
    st = family_statement(session, actor=ACTOR, family_id=loan_d.family_id, as_of=D)
    (loan,) = st.loans
    assert [m.kind for m in loan.lines] == ["disbursement"] + ["repayment"] * 4
    assert loan.lines[-1].balance == loan.status.outstanding_principal
    assert [i.paid.amount for i in loan.installments[:4]] == [15_800, 15_800, 0, 0]
