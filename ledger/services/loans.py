"""A loan from application to disbursement: apply, approve (or reject), disburse.

Contract terms are copied from the application and never change after disbursement; the
schedule stored at disbursement comes from the one schedule engine.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.accounts import AccountRole, account_for
from ledger.actor import Actor, Permission, SecondPersonRequired
from ledger.db.tables import Family, Loan, LoanEvent, LoanSchedule, ScheduleInstallment
from ledger.journal import Line, balance, lock_chain, post_entry
from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    Installment,
    InterestMethod,
    LoanTerms,
    RatePeriod,
    Schedule,
    TermsError,
)
from ledger.money import Money, get_currency
from ledger.schedule import build_schedule
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.funds import find_fund
from ledger.services.loan_book import get_loan, loan_terms
from ledger.services.products import find_product, terms_problems
from ledger.services.unit import transactional, use_case

__all__ = [
    "OPEN_STATUSES",
    "apply_for_loan",
    "approve_loan",
    "disburse_loan",
    "log_event",
    "reject_loan",
    "store_schedule",
]

OPEN_STATUSES = ("applied", "approved", "active")


def log_event(session: Session, loan: Loan, *, event: str, on: date, by: str,
              status: str | None = None, note: str = "") -> None:
    """Append to the loan's lifecycle log and move its status when one is given."""
    assert loan.id is not None
    if status is not None:
        loan.status = status
        session.add(loan)
    session.add(LoanEvent(loan_id=loan.id, event=event, status=status, occurred_on=on,
                          recorded_by=by, note=note))


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        field, _ = problems[0]
        raise ServiceError("; ".join(f"{f}: {why}" for f, why in problems), field=field)


@transactional
def apply_for_loan(
    session: Session,
    *,
    actor: Actor,
    ref: str,
    family_id: int,
    product_code: str,
    fund_code: str,
    principal: Money,
    repayments: int,
    applied_on: date,
    today: date,
    every: int = 1,
    unit: str = "month",
    first_due_on: date | None = None,
    grace_principal: int = 0,
    grace_interest: int = 0,
    enrollment_id: int | None = None,
) -> Loan:
    """Record a loan application on the product's terms, validated against its limits."""
    actor.require(Permission.ENTER_LOANS)
    family = session.get(Family, family_id)
    if family is None:
        raise NotFound(f"family id {family_id} is not in this ledger", field="family")
    if applied_on > today:
        raise ServiceError(f"{applied_on} is in the future", field="applied_on")
    if applied_on < family.registered_on:
        raise ServiceError(f"{family.ref} registered only on {family.registered_on}",
                           field="applied_on")
    product = find_product(session, product_code)
    fund = find_fund(session, fund_code)
    if fund.currency != product.currency:
        raise ServiceError(f"fund {fund.code} keeps {fund.currency}, the product lends "
                           f"{product.currency}", field="fund")
    try:
        terms = LoanTerms(
            principal=principal.amount, currency=principal.currency, rate=product.rate,
            rate_period=RatePeriod(product.rate_period), method=InterestMethod(product.method),
            amortization=Amortization(product.amortization),
            repayments=repayments, disbursed_on=applied_on, every=every,
            unit=FrequencyUnit(unit), first_due_on=first_due_on,
            multiple=(Money.from_minor(product.multiple_minor, principal.currency).amount
                      if product.multiple_minor else None),
            grace_principal=grace_principal, grace_interest=grace_interest,
        )
    except TermsError as exc:
        _refuse(exc.problems)
        raise
    _refuse(terms_problems(product, terms))
    if session.execute(sa.select(col(Loan.id)).where(col(Loan.ref) == ref)).first():
        raise Conflict(f"a loan with ref {ref!r} already exists", field="ref")
    open_loan = session.execute(
        sa.select(col(Loan.ref)).where(col(Loan.family_id) == family_id,
                                  col(Loan.status).in_(OPEN_STATUSES))
    ).scalar_one_or_none()
    if open_loan is not None:
        raise Conflict(f"{family.ref} already has loan {open_loan} open; close it first",
                       field="family")
    assert product.id is not None and fund.id is not None
    with use_case(session):
        loan = Loan(
            ref=ref, family_id=family_id, product_id=product.id, fund_id=fund.id,
            principal_minor=principal.minor, currency=principal.currency.code,
            rate=product.rate, rate_period=product.rate_period, method=product.method,
            amortization=product.amortization, repayments=repayments, every=every, unit=unit,
            first_due_on=first_due_on, multiple_minor=product.multiple_minor,
            grace_principal=grace_principal, grace_interest=grace_interest,
            applied_on=applied_on, applied_by=actor.name, enrollment_id=enrollment_id,
        )
        session.add(loan)
        session.flush()
        log_event(session, loan, event="applied", on=applied_on, by=actor.name, status="applied",
                  note=f"{principal} over {repayments} {unit}s")
    return loan


@transactional
def approve_loan(session: Session, *, actor: Actor, loan_id: int, on: date, today: date,
                 note: str = "") -> Loan:
    """Approve an application; the approver is recorded beside the applicant. A loan above
    the ledger's limit (`ledger.approvals.loan_limit`) needs an approver other than its
    applicant."""
    from ledger.approvals import loan_limit, loan_needs_second_person

    actor.require(Permission.APPROVE_LOANS)
    loan = get_loan(session, loan_id, lock=True)
    if loan.status != "applied":
        raise ServiceError(f"loan {loan.ref} is {loan.status}, not awaiting approval",
                           field="loan")
    if (loan.applied_by == actor.name and not actor.is_system
            and loan_needs_second_person(session, loan)):
        raise SecondPersonRequired(actor, f"loan {loan.ref} is above "
                                          f"{loan_limit(session, loan.currency)} and was entered "
                                          f"by {loan.applied_by}; a different user must approve it")
    if not loan.applied_on <= on <= today:
        raise ServiceError(f"approval date {on} must be between the application "
                           f"({loan.applied_on}) and today", field="on")
    with use_case(session):
        loan.approved_on, loan.approved_by = on, actor.name
        log_event(session, loan, event="approved", on=on, by=actor.name, status="approved",
                  note=note)
    return loan


@transactional
def reject_loan(session: Session, *, actor: Actor, loan_id: int, on: date, reason: str) -> Loan:
    """Turn an application down, with the reason recorded."""
    actor.require(Permission.APPROVE_LOANS)
    loan = get_loan(session, loan_id, lock=True)
    if loan.status not in ("applied", "approved"):
        raise ServiceError(f"loan {loan.ref} is {loan.status}; only applications can be "
                           "rejected", field="loan")
    if not reason.strip():
        raise ServiceError("say why the loan is rejected", field="reason")
    with use_case(session):
        log_event(session, loan, event="rejected", on=on, by=actor.name, status="rejected",
                  note=reason)
    return loan


def store_schedule(session: Session, loan: Loan, schedule: Schedule | list[Installment], *,
                   reason: str, on: date, by: str) -> LoanSchedule:
    """Store a new version of the loan's schedule, superseding the one in force."""
    assert loan.id is not None
    prev = session.execute(
        sa.select(LoanSchedule).where(col(LoanSchedule.loan_id) == loan.id)
        .order_by(col(LoanSchedule.version).desc()).limit(1)
    ).scalars().first()
    row = LoanSchedule(loan_id=loan.id, version=(prev.version + 1) if prev else 1, reason=reason,
                       supersedes_id=prev.id if prev else None, created_on=on, created_by=by)
    session.add(row)
    session.flush()
    assert row.id is not None
    items = schedule.installments if isinstance(schedule, Schedule) else schedule
    cur = get_currency(loan.currency)
    for inst in items:
        session.add(ScheduleInstallment(
            schedule_id=row.id, number=inst.number, due_date=inst.due_date,
            principal_minor=Money(inst.principal, cur).minor,
            interest_minor=Money(inst.interest, cur).minor,
            fee_minor=Money(inst.fee, cur).minor,
        ))
    return row


@transactional
def disburse_loan(session: Session, *, actor: Actor, loan_id: int, on: date, today: date,
                  cash_box_id: int | None = None) -> Loan:
    """Pay the loan out: portfolio debit, cash credit, and the schedule stored — one
    transaction. Refused when the fund's cash does not cover it."""
    actor.require(Permission.ENTER_LOANS)
    lock_chain(session)  # chain before loan row, as every posting service, so none deadlock
    loan = get_loan(session, loan_id, lock=True)
    if loan.status != "approved":
        raise ServiceError(f"loan {loan.ref} is {loan.status}; only approved loans are "
                           "disbursed", field="loan")
    assert loan.approved_on is not None and loan.id is not None
    if not loan.approved_on <= on <= today:
        raise ServiceError(f"disbursement date {on} must be between the approval "
                           f"({loan.approved_on}) and today", field="on")
    if loan.first_due_on is not None and loan.first_due_on <= on:
        raise ServiceError(f"the first due date {loan.first_due_on} is not after {on}",
                           field="on")
    amount = Money.from_minor(loan.principal_minor, loan.currency)
    role = AccountRole.CASH if cash_box_id is None else AccountRole.CASH_BOX
    cash = account_for(session, role, fund_id=loan.fund_id, cash_box_id=cash_box_id)
    portfolio = account_for(session, AccountRole.LOAN_PORTFOLIO, fund_id=loan.fund_id)
    assert cash.id is not None and portfolio.id is not None
    held = balance(session, cash.id, as_of=on)
    if held < amount:
        raise ServiceError(f"{cash.name} holds {held} on {on}, less than the {amount} to lend",
                           field="amount")
    schedule = build_schedule(loan_terms(loan, disbursed_on=on))
    family = session.get(Family, loan.family_id)
    who = family.head_name_latin or family.head_name if family else "?"
    with use_case(session):
        post_entry(session, kind="disbursement", occurred_on=on, by=actor.name, loan_id=loan.id,
                   memo=f"Loan {loan.ref} paid out to {who}",
                   lines=[Line(portfolio.id, amount, loan_id=loan.id, component="principal"),
                          Line(cash.id, -amount, loan_id=loan.id)])
        store_schedule(session, loan, schedule, reason="disbursement", on=on, by=actor.name)
        loan.disbursed_on, loan.disbursed_by = on, actor.name
        log_event(session, loan, event="disbursed", on=on, by=actor.name, status="active",
                  note=f"{amount}")
    return loan
