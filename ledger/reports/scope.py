"""What a report may see and the small helpers every report shares.

Treasurers see only their villages (`Actor.villages`); a report narrows its loans with the
conditions `loan_filters` returns. Amounts leave SQL as integer minor units and become `Money`
here; ratios are exact `Decimal` fractions (None when nothing was due).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

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
    "planned_for_reports",
    "posted_by",
    "ratio",
    "scope_filters",
    "sqlite_hint",
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
    out = scope_filters(currency=currency, villages=None)
    if loan_id is not None:
        out.append(ln.c.id == loan_id)
    if family_id is not None:
        out.append(ln.c.family_id == family_id)
    if village_ids is not None:
        out.append(fam.c.village_id.in_(sorted(village_ids)))
    return out + scope_filters(currency=None, villages=actor.villages)


def scope_filters(*, currency: str | None,
                  villages: Iterable[str] | None) -> list[sa.ColumnElement[bool]]:
    """Conditions over `loan` and `family`: loans in `currency`, of families living in the
    villages with these codes (None: any currency, every village)."""
    ln, fam = core_table("loan"), core_table("family")
    out: list[sa.ColumnElement[bool]] = []
    if currency is not None:
        out.append(ln.c.currency == get_currency(currency).code)
    if villages is not None:
        out.append(village_filter(fam.c.village_id, villages))
    return out


def posted_by(entry_id: sa.ColumnElement[Any], as_of: date,
              dialect: str) -> sa.ColumnElement[bool]:
    """The posting's entry (`entry_id`) is dated on or before `as_of`, written so that a sum
    over a whole account need not look up each posting's entry: the entries dated after the
    day, none or a few when it is today, are left out by their ids. On SQLite that is one
    temporary index of those ids (NOT IN); on PostgreSQL an anti-join, since a NOT IN list
    larger than its working memory would be read again for every posting."""
    je = core_table("journal_entry")
    if dialect == "sqlite":
        return entry_id.not_in(sa.select(je.c.id).where(je.c.occurred_on > as_of))
    return ~sa.exists().where(je.c.id == entry_id, je.c.occurred_on > as_of)


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a month written YYYY-MM (ValueError otherwise)."""
    try:
        year, mon = (int(x) for x in month.strip().split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)") from exc
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


@contextmanager
def planned_for_reports(session: Session) -> Iterator[None]:
    """Run the enclosed report queries without PostgreSQL's JIT compilation, then restore it.

    The planner's row estimates for CTEs and correlated sums are far off, so their cost passes
    the JIT thresholds and PostgreSQL spends seconds compiling a query that runs in a fraction
    of one. Nothing changes on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.execute(sa.text("SELECT current_setting('jit')")).scalar_one()
    session.execute(sa.text("SELECT set_config('jit', 'off', true)"))
    yield
    # Not in a `finally`: after a failed statement the transaction is aborted, and its end
    # discards this transaction-local setting anyway.
    session.execute(sa.text("SELECT set_config('jit', :v, true)"), {"v": before})


class _SqliteHint(sa.ColumnElement[bool]):
    """See `sqlite_hint`."""

    inherit_cache = True
    # The condition is part of the statement's cache key, as any clause is.
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        ("condition", InternalTraversal.dp_clauseelement)]
    # NULL type: rendered as is in a WHERE, without the "= 1" SQLite adds to booleans.
    type: Any = sa.types.NullType()

    def __init__(self, condition: sa.ColumnElement[bool]) -> None:
        self.condition = condition


@compiles(_SqliteHint)
def _elsewhere(element: _SqliteHint, compiler: SQLCompiler, **kw: Any) -> str:
    return "1 = 1"


@compiles(_SqliteHint, "sqlite")
def _on_sqlite(element: _SqliteHint, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.condition, **kw)


def sqlite_hint(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """A condition the query's joins already imply, written out on SQLite only to steer its
    planner (e.g. an IN that makes it look a few schedules' installments up by index instead
    of scanning every installment); PostgreSQL plans better without it and gets `1 = 1`."""
    return _SqliteHint(condition)
