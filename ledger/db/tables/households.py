"""Household cash-flow grids: append-only snapshots of a family's monthly incomes and expenses.

Each recording (at registration, or at a follow-up visit) is one `household_grid` row with its
`household_line` rows; nothing is ever edited. The family's current grid is its latest snapshot
(greatest `recorded_on`, then greatest id).

A line keeps twelve amounts, January to December, in integer minor units of its own currency
(`jan_minor` … `dec_minor`). A line with `seasonal` false has the same amount every month (all
twelve columns equal, checked by the database); a seasonal line (farming by season) differs by
calendar month. Twelve columns keep a line one row and let reports sum any month in SQL.
Dollar lines are converted to riel only when a projection reads them, at the grid's `usd_rate`
(riel per dollar, dated `rate_on`), so what the officer wrote down is what is stored.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, DecimalText, UTCDateTime, utc_now

__all__ = [
    "EXPENSE_CATEGORIES",
    "INCOME_CATEGORIES",
    "LINE_KINDS",
    "MONTH_COLUMNS",
    "HouseholdGrid",
    "HouseholdLine",
]

LINE_KINDS: tuple[str, ...] = ("income", "expense")
# The values of ledger.projection.IncomeSource and ExpenseKind (a test keeps them in step).
INCOME_CATEGORIES: tuple[str, ...] = ("wage", "activity", "farming", "remittance", "other")
EXPENSE_CATEGORIES: tuple[str, ...] = ("food", "housing", "health", "schooling", "other")
MONTH_COLUMNS: tuple[str, ...] = (
    "jan_minor", "feb_minor", "mar_minor", "apr_minor", "may_minor", "jun_minor",
    "jul_minor", "aug_minor", "sep_minor", "oct_minor", "nov_minor", "dec_minor",
)  # fmt: skip


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_CATEGORY_CHECK = (
    f"(kind = 'income' AND category IN ({_in(INCOME_CATEGORIES)})) OR "
    f"(kind = 'expense' AND category IN ({_in(EXPENSE_CATEGORIES)}))"
)
_AMOUNTS_CHECK = " AND ".join(f"{c} >= 0" for c in MONTH_COLUMNS)
_FLAT_CHECK = "seasonal OR (" + " AND ".join(f"{c} = jan_minor" for c in MONTH_COLUMNS[1:]) + ")"


class HouseholdGrid(SQLModel, table=True):
    """One recording of a family's cash flows; `follow_up_id` names the visit it came from."""

    __tablename__ = "household_grid"
    __table_args__ = (
        sa.CheckConstraint("(usd_rate IS NULL) = (rate_on IS NULL)", name="rate_dated"),
        sa.CheckConstraint("savings_minor >= 0", name="savings"),
        sa.Index("ix_household_grid_family_id_recorded_on", "family_id", "recorded_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="family.id")
    recorded_on: date
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    usd_rate: Decimal | None = Field(default=None, sa_type=DecimalText)
    rate_on: date | None = None
    savings_minor: int = Field(default=0, sa_type=MINOR)
    follow_up_id: int | None = None  # a follow_up_visit id, checked by the service
    note: str = Field(default="", sa_type=sa.Text)


class HouseholdLine(SQLModel, table=True):
    """One income or expense line of a grid, January to December in minor units."""

    __tablename__ = "household_line"
    __table_args__ = (
        sa.UniqueConstraint("grid_id", "position"),
        sa.CheckConstraint(_CATEGORY_CHECK, name="category"),
        sa.CheckConstraint(_AMOUNTS_CHECK, name="amounts"),
        sa.CheckConstraint(_FLAT_CHECK, name="flat"),
    )

    id: int | None = Field(default=None, primary_key=True)
    grid_id: int = Field(foreign_key="household_grid.id")
    position: int
    kind: str = Field(max_length=7)
    category: str = Field(max_length=12)
    label: str = ""
    currency: str = Field(max_length=3)
    seasonal: bool = False
    jan_minor: int = Field(sa_type=MINOR)
    feb_minor: int = Field(sa_type=MINOR)
    mar_minor: int = Field(sa_type=MINOR)
    apr_minor: int = Field(sa_type=MINOR)
    may_minor: int = Field(sa_type=MINOR)
    jun_minor: int = Field(sa_type=MINOR)
    jul_minor: int = Field(sa_type=MINOR)
    aug_minor: int = Field(sa_type=MINOR)
    sep_minor: int = Field(sa_type=MINOR)
    oct_minor: int = Field(sa_type=MINOR)
    nov_minor: int = Field(sa_type=MINOR)
    dec_minor: int = Field(sa_type=MINOR)
