"""Writing a loan off (loan-loss debit, portfolio credit) and recoveries after it.

A write-off needs two people: `ledger.approvals` queues the proposal and posts it through
`post_write_off` when a different user approves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole, account_for
from ledger.actor import Actor, Permission, SecondPersonRequired
from ledger.db.tables import Loan, core_table
from ledger.journal import Line, lock_chain, post_entry
from ledger.money import Money, get_currency
from ledger.services.errors import ServiceError
from ledger.services.loan_book import get_loan, load_state
from ledger.services.loans import log_event
from ledger.services.unit import transactional

__all__ = [
    "WrittenOff",
    "post_write_off",
    "record_recovery",
    "recoverable",
    "write_off_amount",
    "write_off_loan",
]


def write_off_amount(session: Session, loan: Loan, *, on: date, today: date) -> Money:
    """What writing the loan off on `on` would remove (its outstanding principal), or a
    ServiceError saying why it cannot be written off."""
    if loan.status != "active":
        raise ServiceError(f"loan {loan.ref} is {loan.status}; only active loans are written "
                           "off", field="loan")
    assert loan.disbursed_on is not None and loan.id is not None
    if not loan.disbursed_on <= on <= today:
        raise ServiceError(f"{on} must be between the disbursement ({loan.disbursed_on}) and "
                           "today", field="on")
    state = load_state(session, loan)
    last = max((a.payment.paid_on for a in state.allocations), default=None)
    if last is not None and on < last:
        raise ServiceError(f"a payment was received on {last}, after {on}", field="on")
    return Money(state.outstanding_principal, get_currency(loan.currency))


@dataclass(frozen=True, slots=True)
class WrittenOff:
    """A posted write-off: the amount and its journal entry."""

    amount: Money
    entry_id: int


def post_write_off(session: Session, *, actor: Actor, loan_id: int, on: date, today: date,
                   reason: str, proposed_by: str) -> WrittenOff:
    """Post an approved write-off (called by `ledger.approvals.approve` inside its use case)."""
    lock_chain(session)
    loan = get_loan(session, loan_id, lock=True)
    amount = write_off_amount(session, loan, on=on, today=today)
    assert loan.id is not None
    loss = account_for(session, AccountRole.LOAN_LOSS_EXPENSE, fund_id=loan.fund_id)
    portfolio = account_for(session, AccountRole.LOAN_PORTFOLIO, fund_id=loan.fund_id)
    assert loss.id is not None and portfolio.id is not None
    approved = "" if proposed_by == actor.name else f" (proposed by {proposed_by})"
    entry = post_entry(session, kind="write_off", occurred_on=on, by=actor.name,
                       loan_id=loan.id, memo=f"Loan {loan.ref} written off: {reason}{approved}",
                       lines=[Line(loss.id, amount, loan_id=loan.id),
                              Line(portfolio.id, -amount, loan_id=loan.id,
                                   component="principal")])
    loan.written_off_on = on
    log_event(session, loan, event="written_off", on=on, by=actor.name, status="written_off",
              note=f"{amount}: {reason}{approved}")
    assert entry.id is not None
    return WrittenOff(amount, entry.id)


@transactional
def write_off_loan(session: Session, *, actor: Actor, loan_id: int, on: date, today: date,
                   reason: str) -> Money:
    """Write off an active loan's outstanding principal at once; returns the amount.

    Every write-off needs a second person, so only the internal SYSTEM actor posts directly;
    users propose one (`ledger.approvals.propose_write_off`) and another user approves it.
    """
    actor.require(Permission.WRITE_OFF)
    if not reason.strip():
        raise ServiceError("say why the loan is written off", field="reason")
    if not actor.is_system:
        raise SecondPersonRequired(actor, "every write-off is proposed by one user and "
                                          "approved by another (propose it, then an approver "
                                          "approves it)")
    return post_write_off(session, actor=actor, loan_id=loan_id, on=on, today=today,
                          reason=reason, proposed_by=actor.name).amount


def recoverable(session: Session, loan: Loan) -> Money:
    """What may still be recovered on a written-off loan: what it owed when written off
    (principal, interest, fees due) less recoveries already received."""
    assert loan.id is not None and loan.written_off_on is not None
    state = load_state(session, loan, as_of=loan.written_off_on)
    owed = state.outstanding_principal + sum(
        (i.outstanding.total - i.outstanding.principal for i in state.installments
         if i.due_date <= loan.written_off_on), start=state.outstanding_principal * 0)
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    got = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(post.c.amount_minor), 0))
        .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
        .where(post.c.loan_id == loan.id, acct.c.role == AccountRole.RECOVERIES_INCOME.value)
    ).scalar_one()
    cur = get_currency(loan.currency)
    return Money(owed, cur) + Money.from_minor(int(got), cur)  # recoveries are credits (< 0)


@transactional
def record_recovery(session: Session, *, actor: Actor, loan_id: int, amount: Money,
                    on: date, today: date, note: str = "",
                    cash_box_id: int | None = None) -> int:
    """Money received on a written-off loan: cash debit, recoveries income credit."""
    actor.require(Permission.RECORD_REPAYMENTS)
    lock_chain(session)
    loan = get_loan(session, loan_id, lock=True)
    if loan.status != "written_off" or loan.written_off_on is None:
        raise ServiceError(f"loan {loan.ref} is {loan.status}; recoveries are for written-off "
                           "loans", field="loan")
    if not loan.written_off_on <= on <= today:
        raise ServiceError(f"{on} must be between the write-off ({loan.written_off_on}) and "
                           "today", field="on")
    if amount.amount <= 0 or amount.currency != get_currency(loan.currency):
        raise ServiceError(f"a recovery must be a positive amount in {loan.currency}",
                           field="amount")
    left = recoverable(session, loan)
    if amount > left:
        raise ServiceError(f"{amount} is more than the {left} still owed on loan {loan.ref}",
                           field="amount")
    role = AccountRole.CASH if cash_box_id is None else AccountRole.CASH_BOX
    cash = account_for(session, role, fund_id=loan.fund_id, cash_box_id=cash_box_id)
    income = account_for(session, AccountRole.RECOVERIES_INCOME, fund_id=loan.fund_id)
    assert cash.id is not None and income.id is not None and loan.id is not None
    entry = post_entry(session, kind="recovery", occurred_on=on, by=actor.name, loan_id=loan.id,
                       memo=f"Recovery on written-off loan {loan.ref}" + (
                           f": {note}" if note else ""),
                       lines=[Line(cash.id, amount, loan_id=loan.id),
                              Line(income.id, -amount, loan_id=loan.id)])
    log_event(session, loan, event="recovery", on=on, by=actor.name, note=str(amount))
    assert entry.id is not None
    return entry.id
