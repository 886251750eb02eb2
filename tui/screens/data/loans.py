"""The loans list, read a page at a time, and everything a loan's page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole
from ledger.actor import Actor
from ledger.allocation import payoff_amount
from ledger.arrears import Arrears, arrears_as_of
from ledger.db.tables import Loan, core_table
from ledger.money import Currency, Money, get_currency
from ledger.schedule import build_schedule
from ledger.services.loan_book import get_loan, load_state, loan_terms
from ledger.services.writeoffs import recoverable
from tui.screens.data.scope import require_loan

__all__ = [
    "PLANNED",
    "InstallmentLine",
    "LoanPage",
    "PaymentLine",
    "WriteOffFacts",
    "installment_state",
    "loan_page",
    "write_off_facts",
]

PLANNED = "planned"  # the state of each installment of a loan not yet paid out


@dataclass(frozen=True, slots=True)
class InstallmentLine:
    """One installment of the schedule in force, with what was paid and its state."""

    number: int
    due_date: date
    due: Money
    paid: Money
    outstanding: Money
    state: str


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """A repayment received, and its reversal if any."""

    id: int
    paid_on: date
    amount: Money
    received_by: str
    reversed: str


@dataclass(frozen=True, slots=True)
class LoanPage:
    """A loan's page: terms, family, schedule, payments, arrears and what closes it."""

    id: int
    ref: str
    status: str
    family_id: int
    family_ref: str
    family_name: str
    family_name_latin: str
    principal: Money
    terms: str
    disbursed_on: date | None
    renegotiated: bool
    installments: tuple[InstallmentLine, ...]
    payments: tuple[PaymentLine, ...]
    arrears: Arrears | None
    outstanding: Money
    payoff: Money
    recoverable: Money | None
    planned_from: date | None = None  # not yet paid out: the schedule if disbursed that day


def _state(due_date: date, outstanding: Money, paid_on_time: bool, as_of: date) -> str:
    if not outstanding:
        return "paid" if paid_on_time else "paid late"
    if due_date < as_of:
        return "OVERDUE"
    return "due" if due_date.year == as_of.year and due_date.month == as_of.month else ""


def _planned(loan: Loan, cur: Currency, as_of: date) -> tuple[date, tuple[InstallmentLine, ...]]:
    """The schedule an applied or approved loan would have if paid out on `as_of` (or on the
    day it was applied for, when that is later): the schedule engine's, as the disbursement
    will store it."""
    start = max(as_of, loan.applied_on)
    schedule = build_schedule(loan_terms(loan, disbursed_on=start))
    lines = tuple(InstallmentLine(i.number, i.due_date, Money(i.total, cur), Money.zero(cur),
                                  Money(i.total, cur), PLANNED)
                  for i in schedule.installments)
    return start, lines


def loan_page(session: Session, *, actor: Actor, loan_id: int, as_of: date) -> LoanPage:
    """Everything the loan's page shows, replayed as of `as_of` (NotFound for a loan outside
    the actor's villages)."""
    require_loan(session, actor, loan_id)
    loan = get_loan(session, loan_id)
    cur = get_currency(loan.currency)
    fam = session.execute(sa.select(core_table("family")).where(
        core_table("family").c.id == loan.family_id)).one()
    money = lambda d: Money(d, cur)  # noqa: E731
    installments: tuple[InstallmentLine, ...] = ()
    arrears, outstanding, payoff = None, Money.zero(cur), Money.zero(cur)
    planned_from = None
    if loan.status in ("applied", "approved"):
        planned_from, installments = _planned(loan, cur, as_of)
    elif loan.status in ("active", "closed", "written_off"):
        state = load_state(session, loan)
        installments = tuple(
            InstallmentLine(i.number, i.due_date, money(i.due.parts.total), money(i.paid.total),
                            money(i.outstanding.total),
                            _state(i.due_date, money(i.outstanding.total), i.paid_on_time, as_of))
            for i in state.installments)
        outstanding = money(state.outstanding_principal)
        if loan.status == "active":
            arrears = arrears_as_of(state, as_of)
            payoff = money(payoff_amount(state, as_of))
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    pays = tuple(
        PaymentLine(int(r.id), r.paid_on, Money.from_minor(int(r.amount_minor), r.currency),
                    r.received_by, r.reason or "")
        for r in session.execute(
            sa.select(rp.c.id, rp.c.paid_on, rp.c.amount_minor, rp.c.currency, rp.c.received_by,
                      rr.c.reason).outerjoin(rr, rr.c.repayment_id == rp.c.id)
            .where(rp.c.loan_id == loan_id).order_by(rp.c.paid_on, rp.c.id)).all())
    every = f"every {loan.every} {loan.unit}s" if loan.every > 1 else f"{loan.unit}ly"
    terms = (f"{loan.rate.normalize():f} % a {loan.rate_period}, {loan.method}, "
             f"{loan.repayments} × {every}")
    assert loan.id is not None
    return LoanPage(
        id=loan.id, ref=loan.ref, status=loan.status, family_id=loan.family_id,
        family_ref=fam.ref, family_name=fam.head_name,
        family_name_latin=fam.head_name_latin or fam.head_name,
        principal=Money.from_minor(loan.principal_minor, cur), terms=terms,
        disbursed_on=loan.disbursed_on, renegotiated=loan.renegotiated,
        installments=installments, payments=pays, arrears=arrears, outstanding=outstanding,
        payoff=payoff,
        recoverable=recoverable(session, loan) if loan.status == "written_off" else None,
        planned_from=planned_from)


@dataclass(frozen=True, slots=True)
class WriteOffFacts:
    """What was written off on a loan and what has been recovered since, from the journal."""

    written_off: Money
    recovered: Money


def write_off_facts(session: Session, page: LoanPage) -> WriteOffFacts | None:
    """The written-off and recovered amounts of a written-off loan (None for other loans):
    read from the postings to the loan-loss and recoveries accounts, as the journal has them."""
    if page.status != "written_off":
        return None
    post, acct = core_table("posting"), core_table("account")
    sums = dict(session.execute(
        sa.select(acct.c.role, sa.func.sum(post.c.amount_minor))
        .join(acct, acct.c.id == post.c.account_id)
        .where(post.c.loan_id == page.id, acct.c.role.in_(
            (AccountRole.LOAN_LOSS_EXPENSE.value, AccountRole.RECOVERIES_INCOME.value)))
        .group_by(acct.c.role)).all())
    cur = page.principal.currency
    return WriteOffFacts(
        Money.from_minor(int(sums.get(AccountRole.LOAN_LOSS_EXPENSE.value) or 0), cur),
        # recoveries are credits to income, so negative in the journal
        Money.from_minor(-int(sums.get(AccountRole.RECOVERIES_INCOME.value) or 0), cur))


def installment_state(page: LoanPage, line: InstallmentLine) -> str:
    """What the schedule says of an installment, given the loan's status: on a written-off
    loan whatever was unpaid is WRITTEN OFF (no longer overdue); an installment settled for
    less than was due (interest not charged after an early payoff) is waived."""
    if line.outstanding and page.status == "written_off":
        return "WRITTEN OFF"
    if line.outstanding and page.status == "closed":
        return "waived"
    if not line.outstanding and line.paid < line.due:
        return "waived"
    return line.state

