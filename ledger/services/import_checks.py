"""Batched reads behind an import's ledger checks, for many loans in a few grouped queries.

`repayments_by_ref` finds which of a file's payment refs the ledger already holds, and
`loans_by_ref` what a repayment import needs to know of the loans a file names.
`principal_room` lets a repayment import skip the allocation replay of a loan whose new
payments cannot be refused: every payoff amount claims at least the principal still owed
(`ledger.allocation_book.payoff_claim`), and a payment lowers that principal by at most its
amount. So while everything paid on a loan, standing and new, stays below its scheduled
principal, each payment is below the principal still owed when it is replayed, whatever
the dates: none is refused, none closes the loan, and the standing ones allocate as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import core_table

__all__ = ["loans_by_ref", "pg_array", "principal_room", "repayments_by_ref",
           "rescheduled_on"]

_BATCH = 900  # ids per IN list in the reference query, below every database's limit
# Values per IN list sent to SQLite as they are: below its 32,766 parameters (3.32 and later).
_SQLITE_BATCH = 30_000


def _day(value: Any) -> date:
    # SQLite's driver gives ISO text, PostgreSQL's a date.
    return date.fromisoformat(value) if isinstance(value, str) else value


def pg_array(values: Sequence[int] | Sequence[str]) -> tuple[str, str]:
    """`values` as one PostgreSQL array literal and its type: every text quoted, its
    backslashes and double quotes escaped (so commas, braces and the word NULL stay text).
    Written here in one join, because the driver adapts a list element by element in Python
    (a tenth of a 20,000-row import's checks)."""
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}", "bigint[]"
    return "{" + ",".join(['"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                           for v in values]) + "}", "text[]"


def _driver_rows(session: Session, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql`, whose `{values}` is where the values' membership test goes, fetched
    whole with the database driver's own cursor: an IN list of placeholders per chunk on
    SQLite, one array parameter (`= ANY(%s::type[])`, see `pg_array`) on PostgreSQL. A file
    holds tens of thousands of refs; building each IN list through SQLAlchemy, or taking its
    rows one at a time, took longer than the lookup, and on PostgreSQL planning a 20,000-item
    IN list took most of a second."""
    if not values:
        return []
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.dialect.name != "sqlite":
            literal, kind = pg_array(values)
            cursor.execute(sql.format(values=f"= ANY(%s::{kind})"), (literal,))
            return list(cursor.fetchall())
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), _SQLITE_BATCH):
            chunk = tuple(values[start:start + _SQLITE_BATCH])
            cursor.execute(sql.format(values=f"IN ({', '.join('?' * len(chunk))})"), chunk)
            out += cursor.fetchall()
        return out
    finally:
        cursor.close()


def rescheduled_on(session: Session, loan_ids: Sequence[int]) -> dict[int, date]:
    """`loan_book.last_reschedules` through the driver: the day each loan named was last
    rescheduled (only loans ever rescheduled appear)."""
    return {int(loan_id): _day(on) for loan_id, on in _driver_rows(
        session, "SELECT loan_id, MAX(created_on) FROM loan_schedule "
        "WHERE loan_id {values} AND version > 1 GROUP BY loan_id", list(loan_ids))}


def repayments_by_ref(session: Session, refs: Iterable[str]
                      ) -> dict[str, tuple[int, date, int, str]]:
    """The repayments whose ref is one of `refs`: ref → (loan id, paid on, amount in minor
    units, currency)."""
    return {str(ref): (int(loan_id), _day(paid_on), int(minor), str(currency))
            for ref, loan_id, paid_on, minor, currency in _driver_rows(
                session, "SELECT ref, loan_id, paid_on, amount_minor, currency FROM repayment "
                "WHERE ref {values}", list(set(refs)))}


def loans_by_ref(session: Session, refs: Iterable[str]
                 ) -> dict[str, tuple[int, str, str, date | None]]:
    """The loans whose ref is one of `refs`: ref → (id, status, currency, disbursed on)."""
    return {str(ref): (int(loan_id), str(status), str(currency),
                       None if disbursed_on is None else _day(disbursed_on))
            for ref, loan_id, status, currency, disbursed_on in _driver_rows(
                session, "SELECT ref, id, status, currency, disbursed_on FROM loan "
                "WHERE ref {values}", list(set(refs)))}


def principal_room(session: Session, loan_ids: Iterable[int]) -> dict[int, int]:
    """Per loan: the principal of its disbursement schedule less every standing repayment
    above zero, in minor units, in one query per chunk of loans. Loans ever rescheduled,
    without a schedule, or with a standing repayment in another currency are left out: only
    a replay can tell what they can take."""
    return _driver_principal_room(session, sorted(set(loan_ids)))


def _principal_room(session: Session, ids: list[int]) -> dict[int, int]:
    """`principal_room` on any database, one query per chunk of loans."""
    loan, ls = core_table("loan"), core_table("loan_schedule")
    si = core_table("schedule_installment")
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    standing = sa.and_(rp.c.loan_id == loan.c.id, rp.c.amount_minor > 0,
                       ~sa.exists().where(rr.c.repayment_id == rp.c.id))
    query = sa.select(
        loan.c.id,
        sa.select(sa.func.max(ls.c.version)).where(ls.c.loan_id == loan.c.id)
        .scalar_subquery(),
        sa.select(sa.func.sum(si.c.principal_minor)).join(ls, si.c.schedule_id == ls.c.id)
        .where(ls.c.loan_id == loan.c.id, ls.c.version == 1).scalar_subquery(),
        sa.select(sa.func.sum(rp.c.amount_minor))
        .where(standing, rp.c.currency == loan.c.currency).scalar_subquery(),
        sa.select(sa.func.count()).select_from(rp)
        .where(standing, rp.c.currency != loan.c.currency).scalar_subquery())
    out: dict[int, int] = {}
    for start in range(0, len(ids), _BATCH):
        for loan_id, version, principal, paid, foreign in session.execute(
                query.where(loan.c.id.in_(ids[start:start + _BATCH]))):
            if version == 1 and principal is not None and not foreign:
                out[int(loan_id)] = int(principal) - int(paid or 0)
    return out


def _driver_principal_room(session: Session, ids: list[int]) -> dict[int, int]:
    """`principal_room` through the driver (`_driver_rows`), reading each loan's standing
    repayments in one pass (the sum in its currency and the count in others together)."""
    paid = {int(loan_id): (int(same or 0), int(foreign or 0))
            for loan_id, same, foreign in _driver_rows(session, (
                "SELECT l.id, SUM(CASE WHEN rp.currency = l.currency THEN rp.amount_minor END), "
                "SUM(CASE WHEN rp.currency != l.currency THEN 1 ELSE 0 END) FROM loan l "
                "JOIN repayment rp ON rp.loan_id = l.id "
                "WHERE l.id {values} AND rp.amount_minor > 0 AND NOT EXISTS "
                "(SELECT 1 FROM repayment_reversal rr WHERE rr.repayment_id = rp.id) "
                "GROUP BY l.id"), ids)}
    out: dict[int, int] = {}
    for loan_id, version, principal in _driver_rows(session, (
            "SELECT l.id, (SELECT MAX(ls.version) FROM loan_schedule ls "
            "WHERE ls.loan_id = l.id), (SELECT SUM(si.principal_minor) "
            "FROM schedule_installment si JOIN loan_schedule ls ON si.schedule_id = ls.id "
            "WHERE ls.loan_id = l.id AND ls.version = 1) "
            "FROM loan l WHERE l.id {values}"), ids):
        same, foreign = paid.get(int(loan_id), (0, 0))
        if version == 1 and principal is not None and not foreign:
            out[int(loan_id)] = int(principal) - same
    return out
