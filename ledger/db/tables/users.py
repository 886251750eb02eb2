"""Who may use the ledger, what happened to their accounts, and what waits for a second person.

Users are master data (roles, villages and passwords change), so every change is also written
to the append-only `user_event` log. `pending_approval` holds the maker-checker queue: a
write-off or an old reversal waits there until a different user approves or rejects it.
"""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, UTCDateTime, utc_now

__all__ = ["APPROVAL_KINDS", "PendingApproval", "User", "UserEvent"]

# What a pending approval can be about.
APPROVAL_KINDS = ("write_off", "reversal")


class User(SQLModel, table=True):
    """A person who signs in: roles as comma-separated text, villages (codes) for treasurers."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=60)
    display_name: str = ""
    roles: str = Field(max_length=120)
    villages: str | None = None  # comma-separated village codes; None = every village
    password_hash: str
    disabled: bool = False
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    created_by: str = Field(max_length=60)
    failed_attempts: int = 0
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserEvent(SQLModel, table=True):
    """One change to a user (added, password changed, disabled, roles changed) — append-only."""

    __tablename__ = "user_event"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    event: str = Field(max_length=30)
    detail: str = ""
    by: str = Field(max_length=60)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class PendingApproval(SQLModel, table=True):
    """An action one user entered that another must approve before it posts."""

    __tablename__ = "pending_approval"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    subject_id: int  # the loan (write-off) or the repayment (reversal)
    amount_minor: int = Field(sa_type=MINOR)
    currency: str = Field(max_length=3)
    occurred_on: date  # the date the action will carry
    reason: str
    requested_by: str = Field(max_length=60)
    requested_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    decision: str | None = Field(default=None, max_length=10)  # approved | rejected
    decided_by: str | None = Field(default=None, max_length=60)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = ""
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
