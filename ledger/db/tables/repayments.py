"""Repayments as received (each with its journal entry) and their reversals; append-only."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, UTCDateTime, utc_now

__all__ = ["Repayment", "RepaymentReversal"]


class Repayment(SQLModel, table=True):
    """Money a family paid on a loan; `entry_id` is the journal entry that allocated it."""

    __tablename__ = "repayment"
    __table_args__ = (
        # Covering index: outstanding-per-loan sums read only the index (PERFORMANCE-NOTES.md);
        # a plain (loan_id) index is slower than none on a date-ordered table. The currency
        # (migration 0009) lets the standing totals, which check it, read only the index too;
        # PostgreSQL also needs the id, to leave out reversed payments (SQLite's has its rowid).
        sa.Index("ix_repayment_loan_paid_amount_currency", "loan_id", "paid_on", "amount_minor",
                 "currency", postgresql_include=["id"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str | None = Field(default=None, unique=True, max_length=60)
    loan_id: int = Field(foreign_key="loan.id")
    paid_on: date
    amount_minor: int = Field(sa_type=MINOR)
    currency: str = Field(max_length=3)
    cash_account_id: int = Field(foreign_key="account.id")
    received_by: str
    note: str = Field(default="", sa_type=sa.Text)
    entry_id: int = Field(foreign_key="journal_entry.id", unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class RepaymentReversal(SQLModel, table=True):
    """The reversal of a repayment (at most one), with its reversing journal entry."""

    __tablename__ = "repayment_reversal"

    id: int | None = Field(default=None, primary_key=True)
    repayment_id: int = Field(foreign_key="repayment.id", unique=True)
    entry_id: int = Field(foreign_key="journal_entry.id", unique=True)
    reason: str = Field(sa_type=sa.Text)
    reversed_by: str
    reversed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
