"""Shared column types and the constraint naming convention for every ledger table.

Money is stored as integer minor units in BIGINT columns (`MINOR`) with a currency code beside;
rates as exact decimal text (`DecimalText`); timestamps as timezone-aware UTC (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

__all__ = ["MINOR", "NAMING_CONVENTION", "DecimalText", "UTCDateTime", "utc_now"]

# Named constraints make migrations reproducible (SQLite batch mode needs names to drop them).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# The column type of every amount in minor units: identical 64-bit integers on both databases.
MINOR = sa.BigInteger


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    Naive datetimes are refused on the way in (their zone is unknowable); SQLite, which keeps no
    zone, gets UTC back attached on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DecimalText(sa.TypeDecorator[Decimal]):
    """An exact decimal (a rate in percent) stored as canonical text, never as a float.

    SQLite has no exact decimal type (NUMERIC columns keep REAL), so both databases store the
    same fixed-point text, e.g. `"1.500000"`, with at most `places` decimal places.
    """

    impl = sa.String(32)
    cache_ok = True

    def __init__(self, places: int = 6, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = places

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
            raise TypeError(f"refusing {type(value).__name__} {value!r}: rates must be Decimal")
        try:
            exact = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a decimal number") from exc
        quantum = Decimal(1).scaleb(-self.places)
        if not exact.is_finite() or exact != exact.quantize(quantum):
            raise ValueError(f"{value!r} has more than {self.places} decimal places")
        return f"{exact.quantize(quantum):f}"

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)
