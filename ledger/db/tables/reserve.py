"""Loan-loss reserve rates: one rate (percent of outstanding principal) per ageing bucket.

Rates are data, not code, so an administrator can follow the ministry's or a funder's policy
(`ledger.reports.reserve.set_reserve_rate`); the migration seeds the defaults. Each row says who
set it last and when.
"""

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from ledger.db.tables.base import DecimalText, UTCDateTime, utc_now

__all__ = ["DEFAULT_RESERVE_RATES", "ReserveRate"]

# Bucket label (as `ledger.arrears.Bucket` spells it) -> percent reserved, the seeded defaults.
DEFAULT_RESERVE_RATES: tuple[tuple[str, Decimal], ...] = (
    ("current", Decimal(0)),
    ("1–30", Decimal(10)),
    ("31–60", Decimal(25)),
    ("61–90", Decimal(50)),
    ("91–180", Decimal(75)),
    ("181–365", Decimal(90)),
    ("over 365", Decimal(100)),
)


class ReserveRate(SQLModel, table=True):
    """The percent of outstanding principal reserved for loans in one ageing bucket."""

    __tablename__ = "reserve_rate"

    bucket: str = Field(primary_key=True, max_length=20)
    rate_pct: Decimal = Field(sa_type=DecimalText)
    updated_by: str
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
