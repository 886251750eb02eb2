"""Recording history that another ledger already decided: a write-off approved there by a
second person, brought in by an import.

Maker-checker for an imported write-off: the importing user must be allowed both to write
loans off and to approve write-offs (an officer who is also an approver), and the record must
name the two different people who proposed and approved it at the time. The approval row is
stored as decided, so the ledger shows who proposed, who approved and who imported it.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import ROLE_PERMISSIONS, Actor, Permission, Role
from ledger.db.tables import PendingApproval, User, utc_now
from ledger.journal import lock_chain
from ledger.services.errors import Conflict, ServiceError
from ledger.services.loan_book import get_loan
from ledger.services.unit import transactional
from ledger.services.writeoffs import post_write_off, write_off_amount

__all__ = ["approver_problem", "record_approved_write_off"]


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def approver_problem(session: Session, *, proposed_by: str, approved_by: str) -> str | None:
    """Why `approved_by` cannot stand as the second person of a write-off `proposed_by` made,
    or None. A name that is a user of this ledger must hold a role that approves write-offs;
    a name that is not (an approver of the ledger the record comes from) is kept as written."""
    if not approved_by.strip():
        return "name who approved the write-off (a write-off needs a second person)"
    if not proposed_by.strip():
        return "name who proposed the write-off"
    if _same_person(proposed_by, approved_by):
        return (f"{approved_by} both proposed and approved it: a write-off needs a second "
                "person to approve it")
    user = session.execute(sa.select(User).where(
        sa.func.lower(col(User.name)) == approved_by.strip().lower())).scalars().first()
    if user is not None:
        roles = {Role(r) for r in user.roles.split(",") if r}
        if not any(Permission.APPROVE_WRITE_OFFS in ROLE_PERMISSIONS[r] for r in roles):
            return (f"user {user.name} does not hold the approver role, so cannot have "
                    "approved a write-off")
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
