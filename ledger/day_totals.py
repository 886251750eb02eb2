"""Each account's postings summed per day and entry kind (`account_day`), kept with the journal.

Every journal write adds its postings here in the same transaction (`add_day_totals`), so an
account's balance on a date sums a few rows per day of its life instead of every posting: a
fund's cash account takes one posting per repayment, millions at national scale, and its
balance is asked before every disbursement, grant and transfer. The rows are a cache of the
journal, never the record: `fsf verify` checks them against the postings it sums.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import core_table

__all__ = ["DayKey", "account_day_sum", "add_day_totals", "day_sums"]

# (account id, day, entry kind)
DayKey = tuple[int, date, str]

# Adds to the row of the same account, day and kind, or makes it; the same text on both
# databases, with `?` or named parameters.
_UPSERT = ("INSERT INTO account_day (account_id, occurred_on, kind, amount_minor) "
           "VALUES ({}) ON CONFLICT (account_id, occurred_on, kind) "
           "DO UPDATE SET amount_minor = account_day.amount_minor + excluded.amount_minor")
_NAMED_UPSERT = sa.text(_UPSERT.format(":account_id, :occurred_on, :kind, :amount_minor")
                        ).bindparams(sa.bindparam("occurred_on", type_=sa.Date()))
_SQLITE_UPSERT = _UPSERT.format("?, ?, ?, ?")


def add_day_totals(session: Session, totals: dict[DayKey, int]) -> None:
    """Add `totals` (minor units per account, day and kind) to the stored sums: one
    executemany of upserts, rows in key order so that two writers never lock in turn."""
    if not totals:
        return
    rows = sorted(totals.items())
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        session.execute(_NAMED_UPSERT, [
            {"account_id": a, "occurred_on": d, "kind": k, "amount_minor": m}
            for (a, d, k), m in rows])
        return
    # Straight to the driver with each date bound as SQLAlchemy binds it: a back-book's
    # payments fall on hundreds of days, and Core's per-row parameter work cost more than
    # the upserts (see `ledger.services.bulk_chain.RowWriter`).
    column = core_table("account_day").c.occurred_on
    day = column.type.dialect_impl(dialect).bind_processor(dialect)
    assert day is not None
    session.connection().exec_driver_sql(_SQLITE_UPSERT, [
        (a, day(d), k, m) for (a, d, k), m in rows])


def day_sums(lines: Iterable[tuple[int, int]], occurred_on: date, kind: str,
             into: dict[DayKey, int]) -> dict[DayKey, int]:
    """Add one entry's (account id, signed minor units) lines to `into`, keyed by day."""
    for account_id, amount in lines:
        key = (account_id, occurred_on, kind)
        into[key] = into.get(key, 0) + amount
    return into


def account_day_sum(account_ids: Any, as_of: date | None) -> sa.Select[Any]:
    """SELECT of each account's balance (`account_id`, `balance`) on `as_of` (every day when
    None), for the accounts `account_ids` names (a list or a subquery of ids; None: all)."""
    ad = core_table("account_day")
    query = (sa.select(ad.c.account_id, sa.func.sum(ad.c.amount_minor).label("balance"))
             .group_by(ad.c.account_id))
    if account_ids is not None:
        query = query.where(ad.c.account_id.in_(account_ids))
    if as_of is not None:
        query = query.where(ad.c.occurred_on <= as_of)
    return query
