"""Batched reads behind an import's ledger checks, for many loans in a few grouped queries.

`repayments_by_ref` finds which of a file's payment refs the ledger already holds.
`principal_room` lets a repayment import skip the allocation replay of a loan whose new
payments cannot be refused: every payoff amount claims at least the principal still owed
(`ledger.allocation_book.payoff_claim`), and a payment lowers that principal by at most its
amount. So while everything paid on a loan, standing and new, stays below its scheduled
principal, each payment is below the principal still owed when it is replayed, whatever
the dates: none is refused, none closes the loan, and the standing ones allocate as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import core_table

__all__ = ["principal_room", "repayments_by_ref"]

_BATCH = 900  # ids per IN list, below every database's parameter limit
# Refs per IN list sent to SQLite as they are: below its 32,766 parameters (3.32 and later).
_SQLITE_BATCH = 30_000


def repayments_by_ref(session: Session, refs: Iterable[str]
                      ) -> dict[str, tuple[int, date, int, str]]:
    """The repayments whose ref is one of `refs`: ref → (loan id, paid on, amount in minor
    units, currency). On SQLite the refs go to the driver as they are (a file holds tens of
    thousands; building each IN list through SQLAlchemy took longer than the lookup)."""
    items = sorted(set(refs))
    rp = core_table("repayment")
    out: dict[str, tuple[int, date, int, str]] = {}
    if session.get_bind().dialect.name == "sqlite":
        conn = session.connection()
        for start in range(0, len(items), _SQLITE_BATCH):
            chunk = items[start:start + _SQLITE_BATCH]
            for ref, loan_id, paid_on, minor, currency in conn.exec_driver_sql(
                    "SELECT ref, loan_id, paid_on, amount_minor, currency FROM repayment "
                    f"WHERE ref IN ({', '.join('?' * len(chunk))})", tuple(chunk)):
                out[str(ref)] = (int(loan_id), date.fromisoformat(paid_on), int(minor),
                                 str(currency))
        return out
    for start in range(0, len(items), _BATCH):
        for ref, loan_id, paid_on, minor, currency in session.execute(
                sa.select(rp.c.ref, rp.c.loan_id, rp.c.paid_on, rp.c.amount_minor,
                          rp.c.currency).where(rp.c.ref.in_(items[start:start + _BATCH]))):
            out[str(ref)] = (int(loan_id), paid_on, int(minor), str(currency))
    return out


def principal_room(session: Session, loan_ids: Iterable[int]) -> dict[int, int]:
    """Per loan: the principal of its disbursement schedule less every standing repayment
    above zero, in minor units, in one query per chunk of loans. Loans ever rescheduled,
    without a schedule, or with a standing repayment in another currency are left out: only
    a replay can tell what they can take."""
    ids = sorted(set(loan_ids))
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
