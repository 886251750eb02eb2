"""Repayments: record one (allocated by the replay), reverse one, quote a payoff.

The journal always books, per loan and component, exactly what the replay of the standing
payments allocates: a repayment posts the cash it brought and the change in that allocation;
a reversal negates its entry and, when later payments now allocate differently, posts one
reallocation entry between the income and portfolio accounts.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlmodel import col

from ledger.accounts import AccountRole, account_for, prefetch_accounts
from ledger.actor import Actor, Permission, SecondPersonRequired
from ledger.allocation import (
    COMPONENTS,
    Parts,
    Payment,
    PaymentRefused,
    allocate,
    payoff_amount,
)
from ledger.db.tables import Account, Repayment, RepaymentReversal, insert_row, utc_now
from ledger.journal import Line, append_entry, lock_chain, post_entry, reverse_entry
from ledger.money import Money, format_amount, get_currency
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.loan_book import (
    NEW_PAYMENT_REF,
    booked_parts,
    compose_dues,
    get_loan,
    last_reschedule_on,
    load_state,
)
from ledger.services.loans import log_event
from ledger.services.payment_reads import PaymentFacts, ReplayReads, payment_facts, replay_reads
from ledger.services.unit import transactional, use_case

__all__ = [
    "allocation_lines",
    "payoff_quote",
    "record_repayment",
    "reverse_approved",
    "reverse_repayment",
]

_INCOME = {"interest": AccountRole.INTEREST_INCOME, "fee": AccountRole.FEE_INCOME,
           "penalty": AccountRole.PENALTY_INCOME, "principal": AccountRole.LOAN_PORTFOLIO}


def _account_id(account: Account) -> int:
    # Accounts are cached for the session and never change; after a commit expires one, its
    # identity still names it, so taking the id needs no round trip to reload the row.
    identity = sa.inspect(account).identity
    if identity is not None:
        return int(identity[0])
    assert account.id is not None
    return account.id


class _Booked(Protocol):
    """A loan as `allocation_lines` needs it (a `Loan` row or a `LoanRow`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def fund_id(self) -> int: ...
    @property
    def currency(self) -> str: ...


def allocation_lines(session: Session, loan: _Booked, change: Parts) -> list[Line]:
    """Credit lines that book `change` (what the replay now allocates beyond what is booked)
    to the portfolio and income accounts; a negative part becomes a debit."""
    assert loan.id is not None
    lines = []
    for component in COMPONENTS:
        value = change.get(component)
        if value:
            account = account_for(session, _INCOME[component], fund_id=loan.fund_id)
            lines.append(Line(_account_id(account), -Money(value, get_currency(loan.currency)),
                              loan_id=loan.id, component=component))
    return lines


def _checked(session: Session, loan_id: int, amount: Money, on: date, today: date,
             ref: str | None) -> tuple[PaymentFacts, ReplayReads]:
    """The loan and its replay inputs, once the payment passed every check that needs no
    replay (in the order an officer should hear them)."""
    facts = payment_facts(session, loan_id, ref)
    if facts is None:
        raise NotFound(f"loan id {loan_id} is not in this ledger", field="loan")
    loan = facts.loan
    if loan.status == "written_off":
        raise ServiceError(f"loan {loan.ref} was written off; record a recovery instead",
                           field="loan")
    if loan.status != "active":
        raise ServiceError(f"loan {loan.ref} is {loan.status}; payments go only to active "
                           "loans", field="loan")
    cur = get_currency(loan.currency)
    if amount.currency != cur:
        raise ServiceError(f"loan {loan.ref} is in {cur.code}, not {amount.currency.code}",
                           field="amount")
    if amount.amount <= 0:
        raise ServiceError("a repayment must be more than zero", field="amount")
    assert loan.disbursed_on is not None
    if on < loan.disbursed_on:
        raise ServiceError(f"{on} is before the loan was disbursed on {loan.disbursed_on}",
                           field="paid_on")
    if on > today:
        raise ServiceError(f"{on} is in the future", field="paid_on")
    reads = replay_reads(session, loan_id, loan.currency)
    rescheduled = reads.rescheduled_on
    if rescheduled is not None and on <= rescheduled:
        raise ServiceError(f"the loan was rescheduled on {rescheduled}; a payment dated "
                           f"{on} cannot change the old schedule", field="paid_on")
    if facts.ref_taken:
        raise Conflict(f"a repayment with ref {ref!r} is already in the ledger", field="ref")
    return facts, reads


@transactional
def record_repayment(
    session: Session,
    *,
    actor: Actor,
    loan_id: int,
    amount: Money,
    paid_on: date,
    today: date,
    ref: str | None = None,
    cash_box_id: int | None = None,
    note: str = "",
) -> Repayment:
    """Record money a family paid: cash debit, allocation credits, the loan closed when
    nothing is left. A payment above the payoff amount is refused with that amount."""
    actor.require(Permission.RECORD_REPAYMENTS)
    lock_chain(session)  # concurrent payments on one ledger allocate one after the other
    facts, reads = _checked(session, loan_id, amount, paid_on, today, ref)
    loan = facts.loan
    cur = get_currency(loan.currency)
    state = allocate(compose_dues(reads.versions, reads.payments), reads.payments,
                     strict=False)
    try:
        after = state.with_payment(Payment(NEW_PAYMENT_REF, paid_on, amount.amount))
    except PaymentRefused as exc:
        raise ServiceError(
            f"{amount} is more than the payoff amount of {format_amount(exc.payoff, cur)} "
            f"on {paid_on}", field="amount") from exc
    change = after.paid - reads.booked
    role = AccountRole.CASH if cash_box_id is None else AccountRole.CASH_BOX
    # Every account this entry needs in one query; `account_for` then finds them cached.
    prefetch_accounts(session, [role, *(_INCOME[c] for c in COMPONENTS if change.get(c))],
                      fund_id=loan.fund_id, cash_box_id=cash_box_id)
    cash_id = _account_id(account_for(session, role, fund_id=loan.fund_id,
                                      cash_box_id=cash_box_id))
    with use_case(session):
        entry_id, _ = append_entry(
            session, kind="repayment", occurred_on=paid_on, by=actor.name, loan_id=loan.id,
            memo=f"Repayment on loan {loan.ref} from {loan.who}" + (
                f": {note}" if note else ""),
            lines=[Line(cash_id, amount, loan_id=loan.id),
                   *allocation_lines(session, loan, change)],
            tip=facts.tip)
        values: dict[str, Any] = {
            "ref": ref, "loan_id": loan.id, "paid_on": paid_on, "amount_minor": amount.minor,
            "currency": cur.code, "cash_account_id": cash_id, "received_by": actor.name,
            "note": note, "entry_id": entry_id, "created_at": utc_now()}
        # A Core insert and the row attached as stored, as `post_entry` does its entry.
        row = Repayment(id=insert_row(session, "repayment", values), **values)
        make_transient_to_detached(row)
        session.add(row)
        if after.outstanding.total == 0:
            closing = get_loan(session, loan.id)  # already locked by `payment_facts`
            closing.closed_on = after.closed_on or paid_on
            log_event(session, closing, event="closed", on=closing.closed_on, by=actor.name,
                      status="closed", note="fully repaid")
            session.flush()
    return row


@transactional
def reverse_repayment(
    session: Session,
    *,
    actor: Actor,
    repayment_id: int,
    reason: str,
    on: date,
) -> RepaymentReversal:
    """Reverse a repayment with a reason: its entry is negated, later payments re-allocate,
    and a loan it had closed opens again. A repayment older than the ledger's reversal limit
    needs a second person: propose it with `ledger.approvals.propose_reversal`."""
    from ledger.approvals import repayment_age_days, reversal_days

    actor.require(Permission.REVERSE_REPAYMENTS)
    if not reason.strip():
        raise ServiceError("say why the repayment is reversed", field="reason")
    repayment = session.get(Repayment, repayment_id)
    if repayment is not None and not actor.is_system:
        limit = reversal_days(session)
        if repayment_age_days(repayment, on) > limit:
            raise SecondPersonRequired(
                actor, f"repayment {repayment_id} is more than {limit} days old; its reversal "
                       "must be proposed and approved by a different user")
    return _reverse(session, actor=actor, repayment_id=repayment_id, reason=reason, on=on,
                    proposed_by=actor.name)


def reverse_approved(session: Session, *, actor: Actor, repayment_id: int, reason: str,
                     on: date, proposed_by: str) -> RepaymentReversal:
    """Post a reversal another user proposed (called by `ledger.approvals.approve`)."""
    return _reverse(session, actor=actor, repayment_id=repayment_id, reason=reason, on=on,
                    proposed_by=proposed_by)


def _reverse(session: Session, *, actor: Actor, repayment_id: int, reason: str, on: date,
             proposed_by: str) -> RepaymentReversal:
    if proposed_by != actor.name:
        reason = f"{reason} (proposed by {proposed_by})"
    lock_chain(session)
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise NotFound(f"repayment id {repayment_id} is not in this ledger", field="repayment")
    if session.execute(sa.select(col(RepaymentReversal.id)).where(
            col(RepaymentReversal.repayment_id) == repayment_id)).first():
        raise Conflict(f"repayment {repayment_id} was already reversed", field="repayment")
    loan = get_loan(session, repayment.loan_id, lock=True)
    assert loan.id is not None
    if loan.status == "written_off":
        raise ServiceError(f"loan {loan.ref} was written off; its repayments stand",
                           field="repayment")
    rescheduled = last_reschedule_on(session, loan.id)
    if rescheduled is not None and repayment.paid_on <= rescheduled:
        raise ServiceError(f"the loan was rescheduled on {rescheduled} on the strength of "
                           "this payment; it cannot be reversed now", field="repayment")
    if on < repayment.paid_on:
        raise ServiceError(f"a reversal cannot be dated before the payment ({repayment.paid_on})",
                           field="on")
    with use_case(session):
        undo = reverse_entry(session, entry_id=repayment.entry_id, by=actor.name, occurred_on=on,
                             memo=f"Reversal of repayment {repayment_id} on loan {loan.ref}: "
                                  f"{reason}")
        assert undo.id is not None
        row = RepaymentReversal(repayment_id=repayment_id, entry_id=undo.id, reason=reason,
                                reversed_by=actor.name)
        session.add(row)
        session.flush()
        state = load_state(session, loan)
        change = state.paid - booked_parts(session, loan.id)
        if change.total != 0:  # pragma: no cover - the replay never moves cash
            raise ServiceError("reallocation does not balance")
        lines = allocation_lines(session, loan, change)
        if lines:
            post_entry(session, kind="reallocation", occurred_on=on, by=actor.name,
                       loan_id=loan.id, lines=lines,
                       memo=f"Later payments on loan {loan.ref} re-allocated after reversing "
                            f"repayment {repayment_id}")
        if loan.status == "closed" and state.outstanding.total > 0:
            loan.closed_on = None
            log_event(session, loan, event="reopened", on=on, by=actor.name, status="active",
                      note=f"repayment {repayment_id} reversed")
    return row


@transactional
def payoff_quote(session: Session, *, actor: Actor, loan_id: int, as_of: date) -> Money:
    """What the family must pay on `as_of` to close the loan (Fineract's rule, see
    `ledger.allocation.payoff_amount`)."""
    actor.require(Permission.READ)
    loan = get_loan(session, loan_id)
    if loan.status not in ("active",):
        return Money.zero(loan.currency)
    state = load_state(session, loan)
    return Money(payoff_amount(state, as_of), get_currency(loan.currency))
