"""Ageing, PAR and status as SQL expressions over `positions`, and the same rules in Python.

Days overdue are never computed in SQL: a loan is d days late when its oldest unpaid due date is
`as_of − d`, so every bucket and PAR threshold becomes a comparison of dates, identical on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from ledger.arrears import Bucket, ageing_bucket

__all__ = [
    "BUCKETS",
    "Boundary",
    "LoanStatusLabel",
    "bucket_expr",
    "bucket_of",
    "days_overdue",
    "in_portfolio",
    "par_expr",
    "status_label",
]

Boundary = Literal[">=", ">"]
LoanStatusLabel = Literal["active", "renegotiated", "closed", "written_off", "not_disbursed"]
BUCKETS: tuple[Bucket, ...] = tuple(Bucket)
# Upper bound (days, inclusive) of each bucket after "current", as `ledger.arrears` ages loans.
_LIMITS = ((30, Bucket.DAYS_1_30), (60, Bucket.DAYS_31_60), (90, Bucket.DAYS_61_90),
           (180, Bucket.DAYS_91_180), (365, Bucket.DAYS_181_365))


def days_overdue(oldest_due: date | None, as_of: date) -> int:
    """Days the oldest unpaid installment is late (0 when none is)."""
    return 0 if oldest_due is None else (as_of - oldest_due).days


def bucket_expr(pos: Any, as_of: date) -> Any:
    """The ageing bucket label of each loan in `positions` (a SQL CASE over dates)."""
    oldest = pos.c.oldest_due
    whens: list[Any] = [(oldest.is_(None), Bucket.CURRENT.value)]
    whens += [(oldest >= as_of - timedelta(days=limit), bucket.value) for limit, bucket in _LIMITS]
    return sa.case(*whens, else_=Bucket.OVER_365.value)


def par_expr(pos: Any, as_of: date, threshold: int, boundary: Boundary) -> Any:
    """Whether a loan counts in PAR<threshold>: its oldest unpaid installment is `threshold`
    days late or more (">=") or more than `threshold` (">"), or it was renegotiated."""
    if boundary not in (">=", ">"):
        raise ValueError(f"PAR boundary must be '>=' or '>', not {boundary!r}")
    limit = as_of - timedelta(days=threshold)
    late = pos.c.oldest_due <= limit if boundary == ">=" else pos.c.oldest_due < limit
    return sa.or_(late, pos.c.version > 1)


def in_portfolio(pos: Any, as_of: date) -> Any:
    """Loans still lent out on `as_of`: neither closed nor written off by then."""
    return sa.and_(sa.or_(pos.c.closed_on.is_(None), pos.c.closed_on > as_of),
                   sa.or_(pos.c.written_off_on.is_(None), pos.c.written_off_on > as_of))


def status_label(*, as_of: date, disbursed_on: date | None, closed_on: date | None,
                 written_off_on: date | None, version: int) -> LoanStatusLabel:
    """A loan's status on `as_of`, from its dates and the schedule version then in force."""
    if disbursed_on is None or disbursed_on > as_of:
        return "not_disbursed"
    if written_off_on is not None and written_off_on <= as_of:
        return "written_off"
    if closed_on is not None and closed_on <= as_of:
        return "closed"
    return "renegotiated" if version > 1 else "active"


def bucket_of(oldest_due: date | None, as_of: date) -> Bucket:
    """The ageing bucket in Python, the same rule as `bucket_expr`."""
    return ageing_bucket(days_overdue(oldest_due, as_of))
