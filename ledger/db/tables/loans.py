"""Loan products, loans (contract terms copied from the application) and the loan event log.

`loan.status` and the few dates beside it are the only money-free fields services update; every
change of status is also written to `loan_event`, which is append-only. Money lives in the
journal. `LoanProductBase` and `LoanBase` carry validation for non-table subclasses.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, DecimalText, UTCDateTime, utc_now

__all__ = ["LOAN_STATUSES", "Loan", "LoanBase", "LoanEvent", "LoanProduct", "LoanProductBase"]

LOAN_STATUSES = ("applied", "approved", "rejected", "active", "closed", "written_off")


class LoanProductBase(SQLModel):
    """A loan product's limits. Lists (`allowed_units`, `allowed_every`) are comma-separated."""

    code: str = Field(unique=True, min_length=1, max_length=20)
    name: str
    currency: str = Field(max_length=3)
    min_principal_minor: int = Field(sa_type=MINOR, gt=0)
    max_principal_minor: int = Field(sa_type=MINOR, gt=0)
    rate: Decimal = Field(sa_type=DecimalText, ge=0)
    rate_period: str = Field(max_length=10)
    method: str = Field(max_length=20)
    amortization: str = Field(max_length=20)
    min_repayments: int = Field(ge=1)
    max_repayments: int = Field(ge=1)
    allowed_units: str = Field(default="month", description="e.g. 'month' or 'month,week'")
    allowed_every: str = Field(default="1", description="e.g. '1' or '1,2'")
    multiple_minor: int | None = Field(default=None, sa_type=MINOR, gt=0)
    max_grace_principal: int = Field(default=0, ge=0)
    max_grace_interest: int = Field(default=0, ge=0)
    allocation_order: str = Field(default="penalty,fee,interest,principal")
    active: bool = True


class LoanProduct(LoanProductBase, table=True):
    """A product families can apply for."""

    __tablename__ = "loan_product"

    id: int | None = Field(default=None, primary_key=True)


class LoanBase(SQLModel):
    """A loan's identity and contract terms, copied from the application and never edited."""

    ref: str = Field(unique=True, min_length=1, max_length=40)
    family_id: int = Field(foreign_key="family.id", index=True)
    product_id: int = Field(foreign_key="loan_product.id")
    fund_id: int = Field(foreign_key="fund.id")
    principal_minor: int = Field(sa_type=MINOR, gt=0)
    currency: str = Field(max_length=3)
    rate: Decimal = Field(sa_type=DecimalText, ge=0)
    rate_period: str = Field(max_length=10)
    method: str = Field(max_length=20)
    amortization: str = Field(max_length=20)
    repayments: int = Field(ge=1)
    every: int = Field(default=1, ge=1)
    unit: str = Field(default="month", max_length=10)
    first_due_on: date | None = None
    multiple_minor: int | None = Field(default=None, sa_type=MINOR, gt=0)
    grace_principal: int = Field(default=0, ge=0)
    grace_interest: int = Field(default=0, ge=0)
    applied_on: date
    applied_by: str
    enrollment_id: int | None = None


class Loan(LoanBase, table=True):
    """A loan and its lifecycle state. Only `status`, `renegotiated` and the dates change."""

    __tablename__ = "loan"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('applied', 'approved', 'rejected', 'active', 'closed', 'written_off')",
            name="status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="applied", max_length=12, index=True)
    renegotiated: bool = False
    approved_on: date | None = None
    approved_by: str | None = None
    disbursed_on: date | None = None
    disbursed_by: str | None = None
    closed_on: date | None = None
    written_off_on: date | None = None


class LoanEvent(SQLModel, table=True):
    """One line of a loan's append-only lifecycle log; `status` is the status it led to, if any."""

    __tablename__ = "loan_event"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    event: str = Field(max_length=30)
    status: str | None = Field(default=None, max_length=12)
    occurred_on: date
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    note: str = Field(default="", sa_type=sa.Text)
