"""What a report may see and the small helpers every report shares.

Treasurers see only their villages (`Actor.villages`); a report narrows its loans with the
conditions `loan_filters` returns. Amounts leave SQL as integer minor units and become `Money`
here; ratios are exact `Decimal` fractions (None when nothing was due).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ledger.actor import Actor
from ledger.db.tables import core_table
from ledger.money import Currency, Money, get_currency

__all__ = [
    "Ratio",
    "clamp",
    "loan_filters",
    "minor",
    "money",
    "month_bounds",
    "ratio",
    "village_filter",
]


def minor(value: object) -> int:
    """An integer from a SQL aggregate (SQLite gives int, PostgreSQL Decimal; None is 0)."""
    if value is None:
        return 0
    return int(str(value))


def money(value: object, currency: Currency | str) -> Money:
    """Money from minor units as SQL returns them."""
    return Money.from_minor(minor(value), get_currency(currency))


@dataclass(frozen=True, slots=True)
class Ratio:
    """An exact fraction; `value` is None when the denominator is zero (nothing to measure)."""

    numerator: Decimal
    denominator: Decimal

    @property
    def value(self) -> Decimal | None:
        """numerator ÷ denominator, or None when the denominator is zero."""
        if self.denominator == 0:
            return None
        return self.numerator / self.denominator


def ratio(numerator: object, denominator: object) -> Ratio:
    """A `Ratio` of two SQL aggregates (or Decimals)."""
    return Ratio(Decimal(minor(numerator)) if not isinstance(numerator, Decimal) else numerator,
                 Decimal(minor(denominator)) if not isinstance(denominator, Decimal)
                 else denominator)


def clamp(x: Any, high: Any) -> Any:
    """min(max(x, 0), high) as a portable SQL CASE (SQLite has no GREATEST/LEAST)."""
    return sa.case((x <= 0, 0), (x >= high, high), else_=x)


def village_filter(village_id: Any, codes: Iterable[str]) -> sa.ColumnElement[bool]:
    """`village_id` belongs to a village with one of `codes`."""
    vil = core_table("village")
    ids = sa.select(vil.c.id).where(vil.c.code.in_(sorted(codes)))
    found: sa.ColumnElement[bool] = village_id.in_(ids)
    return found


def loan_filters(actor: Actor, *, currency: str | None = None, loan_id: int | None = None,
                 family_id: int | None = None,
                 village_ids: Iterable[int] | None = None) -> list[sa.ColumnElement[bool]]:
    """Conditions over the `loan` and `family` tables narrowing a report to what `actor` sees
    and to the loans asked for."""
    ln, fam = core_table("loan"), core_table("family")
    out: list[sa.ColumnElement[bool]] = []
    if currency is not None:
        out.append(ln.c.currency == get_currency(currency).code)
    if loan_id is not None:
        out.append(ln.c.id == loan_id)
    if family_id is not None:
        out.append(ln.c.family_id == family_id)
    if village_ids is not None:
        out.append(fam.c.village_id.in_(sorted(village_ids)))
    if actor.villages is not None:
        out.append(village_filter(fam.c.village_id, actor.villages))
    return out


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a month written YYYY-MM (ValueError otherwise)."""
    try:
        year, mon = (int(x) for x in month.strip().split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)") from exc
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)
