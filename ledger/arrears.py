"""Arrears of one loan "as of" a day, computed from dates and the replayed payments.

No nightly batch: give any day and the state is cut back to the payments made up to that
day, so a report for last month shows what was overdue then. An installment due on D and
still unpaid is 1 day overdue on D+1; on D itself it is due, not overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from ledger.allocation import ZERO, LoanState, Parts

__all__ = ["Arrears", "Bucket", "ageing_bucket", "arrears_as_of", "par_flag"]


class Bucket(StrEnum):
    """Ageing of the oldest unpaid installment, in days overdue (labels as reports show them)."""

    CURRENT = "current"
    DAYS_1_30 = "1–30"
    DAYS_31_60 = "31–60"
    DAYS_61_90 = "61–90"
    DAYS_91_180 = "91–180"
    DAYS_181_365 = "181–365"
    OVER_365 = "over 365"


# Upper bound (inclusive) of each bucket's days overdue; anything above the last is OVER_365.
_BUCKET_LIMITS = (
    (0, Bucket.CURRENT),
    (30, Bucket.DAYS_1_30),
    (60, Bucket.DAYS_31_60),
    (90, Bucket.DAYS_61_90),
    (180, Bucket.DAYS_91_180),
    (365, Bucket.DAYS_181_365),
)


def ageing_bucket(days_overdue: int) -> Bucket:
    """The ageing bucket for a number of days overdue (0 is current)."""
    if days_overdue < 0:
        raise ValueError(f"days overdue cannot be negative ({days_overdue})")
    for limit, bucket in _BUCKET_LIMITS:
        if days_overdue <= limit:
            return bucket
    return Bucket.OVER_365


def par_flag(
    days_overdue: int, threshold: int = 30, boundary: Literal[">=", ">"] = ">="
) -> bool:
    """Whether a loan counts in PAR<threshold>: days overdue >= threshold by default.

    Some funders count only loans strictly more than the threshold (`boundary=">"`); the
    choice moves exactly the loans that are `threshold` days late.
    """
    if boundary == ">=":
        return days_overdue >= threshold
    if boundary == ">":
        return days_overdue > threshold
    raise ValueError(f"PAR boundary must be '>=' or '>', not {boundary!r}")


@dataclass(frozen=True, slots=True)
class Arrears:
    """A loan's position at the end of `as_of`.

    `interest_due` is unpaid interest of installments due on or before `as_of`; `overdue`
    is everything unpaid on installments due before it. `next_due_date` is the first
    installment due on or after `as_of` that still has something to pay (None when there is
    none), and `next_due_amount` what remains on it.
    """

    as_of: date
    outstanding_principal: Decimal
    interest_due: Decimal
    overdue: Parts
    days_overdue: int
    overdue_since: date | None
    overdue_installments: int
    next_due_date: date | None
    next_due_amount: Decimal
    bucket: Bucket

    @property
    def overdue_amount(self) -> Decimal:
        """All components overdue, together."""
        return self.overdue.total

    def in_par(self, threshold: int = 30, boundary: Literal[">=", ">"] = ">=") -> bool:
        """Whether this loan counts in PAR<threshold> (see `par_flag`)."""
        return par_flag(self.days_overdue, threshold, boundary)


def arrears_as_of(state: LoanState, as_of: date) -> Arrears:
    """The loan's arrears at the end of `as_of`; payments dated after it are ignored."""
    rows = state.until(as_of).installments
    overdue_rows = [r for r in rows if r.due_date < as_of and r.outstanding.total > 0]
    overdue = Parts()
    for r in overdue_rows:
        overdue = overdue + r.outstanding
    since = overdue_rows[0].due_date if overdue_rows else None
    days = (as_of - since).days if since is not None else 0
    upcoming = [r for r in rows if r.due_date >= as_of and r.outstanding.total > 0]
    return Arrears(
        as_of=as_of,
        outstanding_principal=sum((r.outstanding.principal for r in rows), ZERO),
        interest_due=sum((r.outstanding.interest for r in rows if r.due_date <= as_of), ZERO),
        overdue=overdue,
        days_overdue=days,
        overdue_since=since,
        overdue_installments=len(overdue_rows),
        next_due_date=upcoming[0].due_date if upcoming else None,
        next_due_amount=upcoming[0].outstanding.total if upcoming else ZERO,
        bucket=ageing_bucket(days),
    )
