"""Funds, cash boxes and the accounts journal postings go to (see `ledger.accounts`)."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

__all__ = ["ACCOUNT_KINDS", "Account", "CashBox", "Fund"]

ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "expense")


class Fund(SQLModel, table=True):
    """A pool of money lent in one currency (e.g. the riel loan fund)."""

    __tablename__ = "fund"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=20)
    name: str
    currency: str = Field(max_length=3)


class CashBox(SQLModel, table=True):
    """Physical cash held for a fund by someone, e.g. a village treasurer."""

    __tablename__ = "cash_box"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="fund.id", index=True)
    name: str
    holder: str


class Account(SQLModel, table=True):
    """An account of the chart. `role` says what the services use it for (`AccountRole`)."""

    __tablename__ = "account"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('asset', 'liability', 'equity', 'income', 'expense')", name="kind"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=80)
    name: str
    kind: str = Field(max_length=10)
    role: str = Field(max_length=30, index=True)
    fund_id: int | None = Field(default=None, foreign_key="fund.id", index=True)
    cash_box_id: int | None = Field(default=None, foreign_key="cash_box.id")
    currency: str = Field(max_length=3)
