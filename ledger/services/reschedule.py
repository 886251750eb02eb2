"""Rescheduling a loan after a shock (a flood, an illness): a new schedule for what is left,
linked to the old one, and the loan marked renegotiated (which keeps it in PAR reports)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import LoanSchedule
from ledger.loan_terms import Installment, TermsError
from ledger.money import Money, get_currency
from ledger.schedule import build_schedule
from ledger.services.errors import ServiceError
from ledger.services.loan_book import get_loan, load_state, loan_terms
from ledger.services.loans import log_event, store_schedule
from ledger.services.unit import transactional

__all__ = ["reschedule_loan"]


@transactional
def reschedule_loan(session: Session, *, actor: Actor, loan_id: int, on: date, today: date,
                    repayments: int, reason: str,
                    first_due_on: date | None = None) -> LoanSchedule:
    """Spread the outstanding principal over `repayments` new installments from `on`, at the
    loan's own rate and method; interest already due and unpaid is carried into the first new
    installment. No money moves, so no journal entry is made."""
    actor.require(Permission.ENTER_LOANS)
    if not reason.strip():
        raise ServiceError("say why the loan is rescheduled", field="reason")
    loan = get_loan(session, loan_id, lock=True)
    if loan.status != "active":
        raise ServiceError(f"loan {loan.ref} is {loan.status}; only active loans are "
                           "rescheduled", field="loan")
    assert loan.disbursed_on is not None
    if not loan.disbursed_on < on <= today:
        raise ServiceError(f"{on} must be after the disbursement ({loan.disbursed_on}) and not "
                           "in the future", field="on")
    state = load_state(session, loan)
    later = [a.payment.paid_on for a in state.allocations if a.payment.paid_on > on]
    if later:
        raise ServiceError(f"a payment dated {later[0]} is after {on}", field="on")
    carried = sum((i.outstanding.interest + i.outstanding.fee + i.outstanding.penalty
                   for i in state.installments if i.due_date <= on),
                  start=state.outstanding_principal * 0)
    cur = get_currency(loan.currency)
    try:
        terms = replace(loan_terms(loan), disbursed_on=on, principal=state.outstanding_principal,
                        repayments=repayments, first_due_on=first_due_on, grace_principal=0,
                        grace_interest=0)
    except TermsError as exc:
        field, why = exc.problems[0]
        raise ServiceError(why, field=field) from exc
    new = list(build_schedule(terms).installments)
    if carried:
        first = new[0]
        new[0] = Installment(first.number, first.due_date, first.principal,
                             first.interest + carried, first.balance, first.fee)
    row = store_schedule(session, loan, new, reason="reschedule", on=on, by=actor.name)
    loan.renegotiated = True
    log_event(session, loan, event="rescheduled", on=on, by=actor.name,
              note=f"{Money(state.outstanding_principal, cur)} over {repayments} installments"
                   f" ({Money(carried, cur)} interest carried): {reason}")
    return row
