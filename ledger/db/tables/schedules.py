"""Stored repayment schedules: versioned, append-only, a reschedule supersedes the previous one."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, UTCDateTime, utc_now

__all__ = ["LoanSchedule", "ScheduleInstallment"]


class LoanSchedule(SQLModel, table=True):
    """Version `version` of a loan's schedule; the newest version is the one in force."""

    __tablename__ = "loan_schedule"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "version"),
        # The rescheduled versions only (migration 0008): when the next version was made.
        sa.Index("ix_loan_schedule_rescheduled", "loan_id", "version", "created_on",
                 sqlite_where=sa.text("version > 1"), postgresql_where=sa.text("version > 1")),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    version: int = Field(ge=1)
    reason: str = Field(max_length=30, description="e.g. disbursement, reschedule")
    supersedes_id: int | None = Field(default=None, foreign_key="loan_schedule.id")
    created_on: date
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ScheduleInstallment(SQLModel, table=True):
    """One due date of a stored schedule, amounts in the loan's currency's minor units."""

    __tablename__ = "schedule_installment"
    __table_args__ = (sa.UniqueConstraint("schedule_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="loan_schedule.id")
    number: int = Field(ge=1)
    due_date: date
    principal_minor: int = Field(sa_type=MINOR)
    interest_minor: int = Field(sa_type=MINOR)
    fee_minor: int = Field(default=0, sa_type=MINOR)
    penalty_minor: int = Field(default=0, sa_type=MINOR)
