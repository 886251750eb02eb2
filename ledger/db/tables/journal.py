"""The journal: entries of balanced postings, append-only and hash-chained.

Write them only through `ledger.journal.post_entry` / `reverse_entry`; database triggers refuse
UPDATE and DELETE on both tables. `amount_minor` is signed: debit positive, credit negative.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, UTCDateTime, utc_now

__all__ = ["COMPONENTS", "ENTRY_KINDS", "GENESIS_HASH", "AccountDay", "JournalEntry", "Posting"]

# Known entry kinds; the column is free text so a later use case can add one without a migration.
ENTRY_KINDS = (
    "capital",
    "disbursement",
    "repayment",
    "grant",
    "fee",
    "write_off",
    "recovery",
    "transfer",
    "reversal",
    "reallocation",
)
COMPONENTS = ("principal", "interest", "fee", "penalty")
GENESIS_HASH = "0" * 64


class JournalEntry(SQLModel, table=True):
    """One money event: who, when, why, and its place in the hash chain (`seq`, hashes)."""

    __tablename__ = "journal_entry"
    # By loan and kind: bulk posting finds a loan's entries that book no repayment (its
    # disbursement) from the index alone (migration 0010).
    __table_args__ = (sa.Index("ix_journal_entry_loan_id_kind", "loan_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_type=sa.BigInteger, unique=True)
    kind: str = Field(max_length=20)
    occurred_on: date = Field(index=True)
    memo: str = Field(sa_type=sa.Text)
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Unique: an entry can be reversed at most once, enforced by the database as well.
    reverses_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)
    loan_id: int | None = Field(default=None, foreign_key="loan.id")
    prev_hash: str = Field(sa_type=sa.String(64))
    hash: str = Field(sa_type=sa.String(64))


class Posting(SQLModel, table=True):
    """One line of an entry: an account, a signed amount in minor units, and what it was for."""

    __tablename__ = "posting"
    __table_args__ = (
        sa.CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        sa.CheckConstraint(
            "component IS NULL OR component IN ('principal', 'interest', 'fee', 'penalty')",
            name="component",
        ),
        # A loan's sums by component read from the index alone (migration 0010).
        sa.Index("ix_posting_loan_component", "loan_id", "component", "currency",
                 "account_id", "amount_minor", "entry_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entry.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    currency: str = Field(max_length=3)
    amount_minor: int = Field(sa_type=MINOR)
    loan_id: int | None = Field(default=None, foreign_key="loan.id")
    component: str | None = Field(default=None, max_length=10)


class AccountDay(SQLModel, table=True):
    """The sum of one account's postings on one day from entries of one kind: a cache of the
    journal, kept in the same transaction by every journal write (`ledger.day_totals`) and
    checked by `fsf verify`. An account's balance on a date is then a few hundred of these
    rows, not every one of its postings (a fund's cash has millions at national scale)."""

    __tablename__ = "account_day"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    occurred_on: date = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=20)
    amount_minor: int = Field(sa_type=MINOR)
