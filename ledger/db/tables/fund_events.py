"""What a capital receipt or a grant was, beside its journal entry (append-only).

The journal holds the money; these rows keep what an auditor asks next: in which currency the
contributor paid and at what exchange rate, and what a grant bought and for whom.
"""

from datetime import date
from decimal import Decimal

from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, DecimalText

__all__ = ["CapitalReceipt", "GrantPayment"]


class CapitalReceipt(SQLModel, table=True):
    """Capital received from a contributor, with the foreign amount and the rate used."""

    __tablename__ = "capital_receipt"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    entry_id: int = Field(foreign_key="journal_entry.id", unique=True)
    fund_id: int = Field(foreign_key="fund.id")
    contributor: str
    received_on: date
    amount_minor: int = Field(sa_type=MINOR)
    currency: str = Field(max_length=3)
    foreign_amount_minor: int | None = Field(default=None, sa_type=MINOR)
    foreign_currency: str | None = Field(default=None, max_length=3)
    rate: Decimal | None = Field(default=None, sa_type=DecimalText)


class GrantPayment(SQLModel, table=True):
    """A non-repayable grant (house building, school materials, a bicycle)."""

    __tablename__ = "grant_payment"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    entry_id: int = Field(foreign_key="journal_entry.id", unique=True)
    fund_id: int = Field(foreign_key="fund.id")
    purpose: str = Field(max_length=40)
    family_id: int | None = Field(default=None, foreign_key="family.id")
    paid_on: date
    amount_minor: int = Field(sa_type=MINOR)
    currency: str = Field(max_length=3)
