"""The loan-loss reserve: outstanding principal per ageing bucket times the reserve rate the
ledger holds for that bucket (`reserve_rate`, editable by an administrator)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.arrears import Bucket
from ledger.db.tables import ReserveRate, utc_now
from ledger.money import Money, get_currency, round_half_even
from ledger.reports.portfolio import portfolio_totals
from ledger.reports.scope import loan_filters
from ledger.services.errors import ServiceError
from ledger.services.unit import transactional

__all__ = [
    "LoanLossReserve",
    "ReserveLine",
    "loan_loss_reserve",
    "parse_bucket",
    "reserve_rates",
    "set_reserve_rate",
]


@dataclass(frozen=True, slots=True)
class ReserveLine:
    """One bucket: its loans, their outstanding principal, the rate and the reserve required."""

    bucket: str
    loans: int
    outstanding: Money
    rate_pct: Decimal
    required: Money


@dataclass(frozen=True, slots=True)
class LoanLossReserve:
    """The reserve required per bucket and in total (each bucket rounded to the currency)."""

    as_of: date
    currency: str
    lines: tuple[ReserveLine, ...]
    outstanding: Money
    required: Money


def parse_bucket(text: str) -> Bucket:
    """A bucket label as typed: "1-30" (a plain hyphen) is accepted for "1–30"."""
    cleaned = text.strip().lower().replace("-", "–").replace("over365", "over 365")
    try:
        return Bucket(cleaned)
    except ValueError as exc:
        valid = ", ".join(b.value for b in Bucket)
        raise ServiceError(f"{text!r} is not a bucket; one of: {valid}", field="bucket") from exc


def reserve_rates(session: Session) -> dict[str, Decimal]:
    """The reserve rate (percent) of every bucket; a bucket without a row reserves 0 %."""
    held = {r.bucket: r.rate_pct for r in session.execute(sa.select(ReserveRate)).scalars()}
    return {b.value: held.get(b.value, Decimal(0)) for b in Bucket}


@transactional
def set_reserve_rate(session: Session, *, actor: Actor, bucket: str,
                     rate: Decimal) -> ReserveRate:
    """Set the percent of outstanding principal reserved for one ageing bucket (0–100)."""
    actor.require(Permission.SET_RESERVE_RATES)
    label = parse_bucket(bucket).value
    if isinstance(rate, float) or not Decimal(rate).is_finite() or not 0 <= rate <= 100:
        raise ServiceError(f"{rate} must be a percentage from 0 to 100", field="rate")
    if Decimal(rate) != Decimal(rate).quantize(Decimal("0.01")):
        raise ServiceError(f"{rate} has more than two decimals", field="rate")
    row = session.get(ReserveRate, label)
    if row is None:
        row = ReserveRate(bucket=label, rate_pct=Decimal(rate), updated_by=actor.name)
    else:
        row.rate_pct, row.updated_by, row.updated_at = Decimal(rate), actor.name, utc_now()
    session.add(row)
    session.flush()
    return row


def loan_loss_reserve(session: Session, *, actor: Actor, as_of: date,
                      currency: str = "KHR") -> LoanLossReserve:
    """The reserve the portfolio of `as_of` requires, bucket by bucket and in total."""
    actor.require(Permission.READ)
    cur = get_currency(currency)
    totals = portfolio_totals(session, as_of=as_of, where=loan_filters(actor, currency=cur.code),
                              currency=cur.code)
    rates = reserve_rates(session)
    lines = tuple(
        ReserveLine(b.bucket, b.loans, b.value, rates[b.bucket],
                    Money(round_half_even(b.value.amount * rates[b.bucket] / 100, cur), cur))
        for b in totals.buckets)
    return LoanLossReserve(as_of, cur.code, lines, totals.gross,
                           sum((line.required for line in lines), Money.zero(cur)))
