"""Recording history that another ledger already decided, brought in by an import: a
write-off approved there by a second person, and the reversal of a repayment.

Maker-checker for an imported write-off: the importing user must be allowed both to write
loans off and to approve write-offs (an officer who is also an approver), and the record must
name the two different people who proposed and approved it at the time. The approval row is
stored as decided, so the ledger shows who proposed, who approved and who imported it.

An imported reversal is held to the rule `reverse_repayment` applies, with the same measure of
age (`repayment_age_days`: days from the payment to the reversal, or since the payment was
recorded here if longer, so a file cannot back-date the reversal of a payment this ledger has
held for weeks): one older than the ledger's limit names who approved it, a person other than
who reversed it, and is posted approved, by an importing user who may approve reversals, with
its approval row stored as decided. A younger one needs one person. Either way the importing
user posts it, and who reversed it at the time (when not the importing user) is kept in its
reason as `(proposed by NAME)`, as the approval path does. The internal SYSTEM actor is not
held to the second-person rule, as in `reverse_repayment`.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import ROLE_PERMISSIONS, Actor, Permission, Role
from ledger.approvals import repayment_age_days, reversal_days
from ledger.db.tables import PendingApproval, Repayment, RepaymentReversal, User, utc_now
from ledger.journal import lock_chain
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.loan_book import get_loan
from ledger.services.repayments import reverse_approved
from ledger.services.unit import transactional
from ledger.services.writeoffs import post_write_off, write_off_amount

__all__ = ["approver_problem", "record_approved_write_off", "record_historic_reversal",
           "reversal_needs_approver"]

_WHAT = {Permission.APPROVE_WRITE_OFFS: "write-off", Permission.APPROVE_REVERSALS: "reversal"}


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def approver_problem(session: Session, *, proposed_by: str, approved_by: str,
                     permission: Permission = Permission.APPROVE_WRITE_OFFS) -> str | None:
    """Why `approved_by` cannot stand as the second person of a write-off (or, with
    `permission` APPROVE_REVERSALS, a reversal) `proposed_by` made, or None. A name that is a
    user of this ledger must hold a role granting `permission`; a name that is not (an
    approver of the ledger the record comes from) is kept as written."""
    what = _WHAT[permission]
    if not approved_by.strip():
        return f"name who approved the {what} (a {what} needs a second person)"
    if not proposed_by.strip():
        return f"name who proposed the {what}"
    if _same_person(proposed_by, approved_by):
        return (f"{approved_by} both proposed and approved it: a {what} needs a second "
                "person to approve it")
    user = session.execute(sa.select(User).where(
        sa.func.lower(col(User.name)) == approved_by.strip().lower())).scalars().first()
    if user is not None:
        roles = {Role(r) for r in user.roles.split(",") if r}
        if not any(permission in ROLE_PERMISSIONS[r] for r in roles):
            return (f"user {user.name} does not hold the approver role, so cannot have "
                    f"approved a {what}")
    return None


@transactional
def record_approved_write_off(session: Session, *, actor: Actor, loan_id: int, on: date,
                              today: date, reason: str, proposed_by: str,
                              approved_by: str, note: str = "") -> PendingApproval:
    """Post a write-off that `proposed_by` proposed and `approved_by` approved elsewhere, as
    `actor` (who must hold both the write-off and the approve-write-offs permissions); the
    decided approval row is returned."""
    actor.require(Permission.WRITE_OFF)
    actor.require(Permission.APPROVE_WRITE_OFFS, "imported write-offs are posted approved")
    if not reason.strip():
        raise ServiceError("say why the loan is written off", field="reason")
    why = approver_problem(session, proposed_by=proposed_by, approved_by=approved_by)
    if why is not None:
        raise ServiceError(why, field="approved_by")
    lock_chain(session)
    loan = get_loan(session, loan_id, lock=True)
    amount = write_off_amount(session, loan, on=on, today=today)
    assert loan.id is not None
    waiting = sa.select(col(PendingApproval.id)).where(
        col(PendingApproval.kind) == "write_off", col(PendingApproval.subject_id) == loan.id,
        col(PendingApproval.decision).is_(None))
    if session.execute(waiting).first() is not None:
        raise Conflict(f"a write-off of loan {loan.ref} already waits for approval here: "
                       "decide that one first", field="loan")
    posted = post_write_off(session, actor=actor, loan_id=loan.id, on=on, today=today,
                            reason=reason, proposed_by=proposed_by.strip())
    row = PendingApproval(kind="write_off", loan_id=loan.id, subject_id=loan.id,
                          amount_minor=amount.minor, currency=loan.currency, occurred_on=on,
                          reason=reason, requested_by=proposed_by.strip(), decision="approved",
                          decided_by=approved_by.strip(), decided_at=utc_now(),
                          decision_note=note or f"recorded by {actor.name}",
                          entry_id=posted.entry_id)
    session.add(row)
    session.flush()
    return row


def reversal_needs_approver(session: Session, *, actor: Actor, repayment: Repayment,
                            on: date) -> int | None:
    """The ledger's limit in days when reversing `repayment` on `on` needs a second person
    (the rule and the measure of `reverse_repayment`), or None when one person may."""
    limit = reversal_days(session)
    if actor.is_system or repayment_age_days(repayment, on) <= limit:
        return None
    return limit


@transactional
def record_historic_reversal(session: Session, *, actor: Actor, repayment_id: int, on: date,
                             today: date, reason: str, reversed_by: str = "",
                             approved_by: str = "", note: str = "") -> RepaymentReversal:
    """Post the reversal of a repayment that `reversed_by` (blank: `actor`) made on `on` in
    the ledger the record comes from, approved there by `approved_by` when it needed a second
    person (see the module's doc); the reversal row is returned."""
    actor.require(Permission.REVERSE_REPAYMENTS)
    if not reason.strip():
        raise ServiceError("say why the repayment is reversed", field="reason")
    if on > today:
        raise ServiceError(f"{on} is in the future", field="on")
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise NotFound(f"repayment id {repayment_id} is not in this ledger", field="repayment")
    by = reversed_by.strip() or actor.name
    if not approved_by.strip():
        limit = reversal_needs_approver(session, actor=actor, repayment=repayment, on=on)
        if limit is not None:
            raise ServiceError(
                f"the repayment of {repayment.paid_on} is reversed on {on}, more than this "
                f"ledger's {limit} days later: name who approved the reversal (a second "
                "person)", field="approved_by")
        return reverse_approved(session, actor=actor, repayment_id=repayment_id, reason=reason,
                                on=on, proposed_by=by)
    actor.require(Permission.APPROVE_REVERSALS, "imported reversals are posted approved")
    why = approver_problem(session, proposed_by=by, approved_by=approved_by,
                           permission=Permission.APPROVE_REVERSALS)
    if why is not None:
        raise ServiceError(why, field="approved_by")
    lock_chain(session)
    waiting = sa.select(col(PendingApproval.id)).where(
        col(PendingApproval.kind) == "reversal", col(PendingApproval.subject_id) == repayment_id,
        col(PendingApproval.decision).is_(None))
    if session.execute(waiting).first() is not None:
        raise Conflict(f"a reversal of repayment {repayment_id} already waits for approval "
                       "here: decide that one first", field="repayment")
    posted = reverse_approved(session, actor=actor, repayment_id=repayment_id, reason=reason,
                              on=on, proposed_by=by)
    session.add(PendingApproval(
        kind="reversal", loan_id=repayment.loan_id, subject_id=repayment_id,
        amount_minor=repayment.amount_minor, currency=repayment.currency, occurred_on=on,
        reason=reason, requested_by=by, decision="approved", decided_by=approved_by.strip(),
        decided_at=utc_now(), decision_note=note or f"recorded by {actor.name}",
        entry_id=posted.entry_id))
    session.flush()
    return posted
