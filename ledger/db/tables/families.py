"""Families (households), their optional members, informal debts and sensitive facts.

Names are stored as entered (Khmer script welcome) with an optional Latin spelling. Sensitive
facts live in their own table so that roles and exports can leave the whole table out.
`FamilyBase` carries the validation (`table=True` models skip it): services validate through a
non-table subclass before building the row.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, DecimalText, UTCDateTime, utc_now

__all__ = ["Family", "FamilyBase", "FamilyMember", "InformalDebt", "SensitiveFact"]


class FamilyBase(SQLModel):
    """The fields of a family as entered; validated when used as a non-table model."""

    ref: str = Field(unique=True, min_length=1, max_length=40)
    head_name: str = Field(min_length=1)
    head_name_latin: str | None = None
    sex: str = Field(max_length=1, description="F, M or X")
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    household_size: int = Field(ge=1)
    dependants: int = Field(default=0, ge=0)
    village_id: int = Field(foreign_key="village.id", index=True)
    phone: str | None = None
    id_number: str | None = None
    registered_on: date
    created_by: str


class Family(FamilyBase, table=True):
    """A household registered with the fund."""

    __tablename__ = "family"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class FamilyMember(SQLModel, table=True):
    """An optional household member beside the head."""

    __tablename__ = "family_member"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="family.id", index=True)
    name: str
    name_latin: str | None = None
    sex: str | None = Field(default=None, max_length=1)
    birth_year: int | None = None
    relation: str | None = None


class InformalDebt(SQLModel, table=True):
    """A debt to a moneylender, shop or relative, declared at registration."""

    __tablename__ = "informal_debt"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="family.id", index=True)
    lender_kind: str
    outstanding_minor: int = Field(sa_type=MINOR)
    currency: str = Field(max_length=3)
    monthly_rate_pct: Decimal | None = Field(default=None, sa_type=DecimalText)


class SensitiveFact(SQLModel, table=True):
    """A sensitive household fact (e.g. a returnee in the family), kept apart from `family`."""

    __tablename__ = "sensitive_fact"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="family.id", index=True)
    kind: str
    note: str = Field(default="", sa_type=sa.Text)
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
