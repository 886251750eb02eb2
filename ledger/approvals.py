"""Maker-checker: what needs a second person, the queue of pending items, and deciding them.

- A loan above a configurable amount is approved by someone other than its applicant
  (`approve_loan` asks `loan_needs_second_person`).
- Every write-off is proposed by one user and posted only when a different user approves it.
- A reversal of a repayment older than a configurable number of days likewise waits for a
  different user's approval.

The limits are facts of the ledger (`app_meta`), set by administrators. The internal `SYSTEM`
actor is not a user and is not held to the second-person rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission, SecondPersonRequired
from ledger.db.tables import (
    AppMeta,
    Family,
    Loan,
    PendingApproval,
    Repayment,
    RepaymentReversal,
    Village,
    utc_now,
)
from ledger.journal import lock_chain
from ledger.money import Money, get_currency
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.loan_book import get_loan
from ledger.services.unit import transactional

__all__ = [
    "DEFAULT_LOAN_LIMITS",
    "DEFAULT_REVERSAL_DAYS",
    "PendingItem",
    "approve",
    "list_pending",
    "loan_limit",
    "loan_needs_second_person",
    "propose_reversal",
    "propose_write_off",
    "reject",
    "repayment_age_days",
    "reversal_days",
    "set_approval_limits",
]

# Loans ABOVE these (minor units) need an approver other than the applicant.
DEFAULT_LOAN_LIMITS = {"KHR": 200_000, "USD": 5_000}
DEFAULT_REVERSAL_DAYS = 7
_LOAN_KEY = "approval_loan_limit_"  # + currency code
_DAYS_KEY = "approval_reversal_days"
_PERMISSION = {"write_off": Permission.APPROVE_WRITE_OFFS,
               "reversal": Permission.APPROVE_REVERSALS}


@dataclass(frozen=True, slots=True)
class PendingItem:
    """Something waiting for an approver: a loan application (`id` None; approve it with the
    loan commands) or a queued write-off or reversal (`id` of the pending approval)."""

    id: int | None
    kind: str  # loan | write_off | reversal
    loan_id: int
    loan_ref: str
    amount: Money
    on: date
    requested_by: str
    reason: str
    second_person: bool  # whether the approver must differ from `requested_by`


def _fact(session: Session, key: str) -> str | None:
    row = session.get(AppMeta, key)
    return None if row is None else row.value


def _set(session: Session, key: str, value: str) -> None:
    from ledger.services.setup import set_fact

    set_fact(session, key, value)


def loan_limit(session: Session, currency: str) -> Money:
    """The amount above which a loan needs an approver other than its applicant."""
    stored = _fact(session, _LOAN_KEY + currency)
    minor = int(stored) if stored is not None else DEFAULT_LOAN_LIMITS.get(currency, 0)
    return Money.from_minor(minor, currency)


def reversal_days(session: Session) -> int:
    """Reversing a repayment older than this many days needs a second person."""
    stored = _fact(session, _DAYS_KEY)
    return int(stored) if stored is not None else DEFAULT_REVERSAL_DAYS


@transactional
def set_approval_limits(session: Session, *, actor: Actor, loan_above: Money | None = None,
                        reversal_after_days: int | None = None) -> None:
    """Change the maker-checker limits (administrators only)."""
    actor.require(Permission.SET_APPROVAL_LIMITS)
    if loan_above is not None:
        if loan_above.amount < 0:
            raise ServiceError("the loan limit cannot be negative", field="loan_above")
        _set(session, _LOAN_KEY + loan_above.currency.code, str(loan_above.minor))
    if reversal_after_days is not None:
        if reversal_after_days < 0:
            raise ServiceError("the number of days cannot be negative", field="days")
        _set(session, _DAYS_KEY, str(reversal_after_days))


def loan_needs_second_person(session: Session, loan: Loan) -> bool:
    """Whether the loan's principal is above the limit, so its applicant may not approve it."""
    return loan.principal_minor > loan_limit(session, loan.currency).minor


def repayment_age_days(repayment: Repayment, on: date, now: datetime | None = None) -> int:
    """How old a repayment is when reversed on `on`: the larger of the days since it was paid
    and the days since it was recorded (so back-dating a reversal does not shorten it)."""
    recorded = ((now or utc_now()) - repayment.created_at).days
    return max((on - repayment.paid_on).days, recorded)


def _undecided(session: Session, kind: str, subject_id: int) -> bool:
    query = sa.select(col(PendingApproval.id)).where(
        col(PendingApproval.kind) == kind, col(PendingApproval.subject_id) == subject_id,
        col(PendingApproval.decision).is_(None))
    return session.execute(query).first() is not None


@transactional
def propose_write_off(session: Session, *, actor: Actor, loan_id: int, on: date, today: date,
                      reason: str) -> PendingApproval:
    """Queue a write-off of the loan's outstanding principal for a different user to approve."""
    from ledger.services.writeoffs import write_off_amount

    actor.require(Permission.WRITE_OFF)
    if not reason.strip():
        raise ServiceError("say why the loan is written off", field="reason")
    loan = get_loan(session, loan_id, lock=True)
    amount = write_off_amount(session, loan, on=on, today=today)
    assert loan.id is not None
    if _undecided(session, "write_off", loan.id):
        raise Conflict(f"a write-off of loan {loan.ref} already waits for approval",
                       field="loan")
    row = PendingApproval(kind="write_off", loan_id=loan.id, subject_id=loan.id,
                          amount_minor=amount.minor, currency=loan.currency, occurred_on=on,
                          reason=reason, requested_by=actor.name)
    session.add(row)
    session.flush()
    return row


@transactional
def propose_reversal(session: Session, *, actor: Actor, repayment_id: int, on: date,
                     reason: str) -> PendingApproval:
    """Queue the reversal of an old repayment for a different user to approve."""
    actor.require(Permission.REVERSE_REPAYMENTS)
    if not reason.strip():
        raise ServiceError("say why the repayment is reversed", field="reason")
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise NotFound(f"repayment id {repayment_id} is not in this ledger", field="repayment")
    if session.execute(sa.select(col(RepaymentReversal.id)).where(
            col(RepaymentReversal.repayment_id) == repayment_id)).first():
        raise Conflict(f"repayment {repayment_id} was already reversed", field="repayment")
    if _undecided(session, "reversal", repayment_id):
        raise Conflict(f"a reversal of repayment {repayment_id} already waits for approval",
                       field="repayment")
    if on < repayment.paid_on:
        raise ServiceError(f"a reversal cannot be dated before the payment ({repayment.paid_on})",
                           field="on")
    row = PendingApproval(kind="reversal", loan_id=repayment.loan_id, subject_id=repayment_id,
                          amount_minor=repayment.amount_minor, currency=repayment.currency,
                          occurred_on=on, reason=reason, requested_by=actor.name)
    session.add(row)
    session.flush()
    return row


def _pending(session: Session, approval_id: int) -> PendingApproval:
    row = session.get(PendingApproval, approval_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no pending approval with id {approval_id}", field="id")
    if row.decision is not None:
        raise Conflict(f"approval {approval_id} was already {row.decision} by {row.decided_by}",
                       field="id")
    return row


@transactional
def approve(session: Session, *, actor: Actor, approval_id: int, today: date,
            note: str = "") -> PendingApproval:
    """Approve a queued write-off or reversal and post it, as a user other than the one who
    proposed it."""
    from ledger.services.repayments import reverse_approved
    from ledger.services.writeoffs import post_write_off

    lock_chain(session)  # the chain before any row, in the order every posting service uses
    row = _pending(session, approval_id)
    actor.require(_PERMISSION[row.kind])
    what = f"the {row.kind.replace('_', '-')} {approval_id}"
    if actor.name == row.requested_by and not actor.is_system:
        raise SecondPersonRequired(actor, f"{what} was proposed by {row.requested_by}; a "
                                          "different user must approve it")
    if row.kind == "write_off":
        entry_id = post_write_off(session, actor=actor, loan_id=row.loan_id,
                                  on=row.occurred_on, today=today, reason=row.reason,
                                  proposed_by=row.requested_by).entry_id
    else:
        entry_id = reverse_approved(session, actor=actor, repayment_id=row.subject_id,
                                    on=row.occurred_on, reason=row.reason,
                                    proposed_by=row.requested_by).entry_id
    row.decision, row.decided_by, row.decided_at = "approved", actor.name, utc_now()
    row.decision_note, row.entry_id = note, entry_id
    session.add(row)
    return row


@transactional
def reject(session: Session, *, actor: Actor, approval_id: int, reason: str) -> PendingApproval:
    """Turn a queued write-off or reversal down, with the reason; nothing is posted."""
    if not reason.strip():
        raise ServiceError("say why it is rejected", field="reason")
    row = _pending(session, approval_id)
    actor.require(_PERMISSION[row.kind])
    row.decision, row.decided_by, row.decided_at = "rejected", actor.name, utc_now()
    row.decision_note = reason
    session.add(row)
    return row


def _in_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """Loans of the actor's villages (every loan for actors not limited to villages)."""
    if actor.villages is None:
        return sa.true()
    families = (sa.select(col(Family.id))
                .join(Village, col(Village.id) == col(Family.village_id))
                .where(col(Village.code).in_(sorted(actor.villages))))
    return col(Loan.family_id).in_(families)


@transactional
def list_pending(session: Session, *, actor: Actor) -> list[PendingItem]:
    """Loans awaiting approval and queued write-offs and reversals, oldest first (treasurers
    see only their villages')."""
    actor.require(Permission.READ)
    loans = sa.select(
        col(Loan.id), col(Loan.ref), col(Loan.principal_minor), col(Loan.currency),
        col(Loan.applied_on), col(Loan.applied_by)).where(col(Loan.status) == "applied",
                                                          _in_scope(actor))
    out: list[PendingItem] = []
    for lid, ref, minor, cur, on, by in session.execute(loans.order_by(col(Loan.id))).all():
        assert lid is not None
        money = Money.from_minor(int(minor), get_currency(str(cur)))
        out.append(PendingItem(None, "loan", lid, str(ref), money, on, str(by), "",
                               money.minor > loan_limit(session, str(cur)).minor))
    queued = sa.select(PendingApproval, col(Loan.ref)).join(
        Loan, col(Loan.id) == col(PendingApproval.loan_id)).where(
        col(PendingApproval.decision).is_(None), _in_scope(actor))
    for p, ref in session.execute(queued.order_by(col(PendingApproval.id))).all():
        assert isinstance(p, PendingApproval)
        out.append(PendingItem(p.id, p.kind, p.loan_id, str(ref),
                               Money.from_minor(p.amount_minor, get_currency(p.currency)),
                               p.occurred_on, p.requested_by, p.reason, True))
    return out
