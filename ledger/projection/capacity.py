"""Repayment capacity: the net indebtedness index, the largest installment and loan a family
can carry, and the months in which an installment cannot be met.

Decisions (see the issue on projections):
- Net indebtedness index = all debt service ÷ net income, where net income is income minus
  business costs minus living expenses, *before* any debt service. It is taken over the whole
  horizon (sum of debt service ÷ sum of net income), so a lumpy sale counts once.
- Classes follow the Cambodian over-indebtedness thresholds (CIDS 2013, "Over-indebtedness in
  Cambodia"): index ≤ 75 % solvent; > 75 % and ≤ 100 % at risk; > 100 % insolvent. The
  exact fraction is compared, never a rounded percent, so 75.01 % is already at risk. A
  family with debt service but no positive net income is insolvent (index None); one with no
  debt service has index 0.
- Installment capacity = a share (default 50 %) of the average monthly surplus after the
  existing debt service, rounded down to whole riel and never negative.
- Largest loan = the largest principal, in multiples of 10,000 riel, whose Foundation schedule
  (default: 1 % a month, declining balance, equal installments in multiples of 100 riel,
  monthly) has no installment above the capacity. It is found over the schedule engine itself
  so that it matches the schedule a loan officer will store; see `largest_loan`.
- Months that cannot be met: the family's cash carries over (opening cash plus each month's
  surplus before the installment); an installment is missed when that cash is short of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from ledger.loan_terms import (
    Amortization,
    InterestMethod,
    LoanTerms,
    RatePeriod,
    Schedule,
)
from ledger.money import KHR
from ledger.projection.cashflow import Grid
from ledger.schedule import build_schedule

__all__ = [
    "AT_RISK_ABOVE",
    "INSOLVENT_ABOVE",
    "Capacity",
    "FoundationProduct",
    "RepaymentPath",
    "Solvency",
    "assess",
    "classify",
    "indebtedness_index",
    "installment_capacity",
    "largest_loan",
    "repayment_path",
]

_ZERO = Decimal(0)
AT_RISK_ABOVE = Decimal("0.75")
INSOLVENT_ABOVE = Decimal(1)


class Solvency(StrEnum):
    """The CIDS 2013 classes of the net indebtedness index."""

    SOLVENT = "solvent"
    AT_RISK = "at-risk"
    INSOLVENT = "insolvent"


@dataclass(frozen=True, slots=True)
class FoundationProduct:
    """The Foundation's loan product: rate in percent a month, and the largest-loan step."""

    rate: Decimal = Decimal(1)
    method: InterestMethod = InterestMethod.DECLINING
    amortization: Amortization = Amortization.EQUAL_INSTALLMENTS
    multiple: Decimal = Decimal(100)
    step: Decimal = Decimal(10_000)

    def terms(
        self, principal: Decimal, months: int, start: date, *, balloon: bool = False
    ) -> LoanTerms:
        """Monthly riel terms for `principal` over `months` disbursed on `start`.

        `balloon=True` defers all principal and interest to the last month (grace on both).
        """
        grace = months - 1 if balloon else 0
        return LoanTerms(
            principal=principal,
            currency=KHR,
            rate=self.rate,
            rate_period=RatePeriod.MONTH,
            method=self.method,
            amortization=self.amortization,
            repayments=months,
            disbursed_on=start,
            multiple=self.multiple,
            grace_principal=grace,
            grace_interest=grace,
        )


def indebtedness_index(debt_service: Decimal, net_income: Decimal) -> Decimal | None:
    """Debt service ÷ net income as a fraction; None when debt meets no positive income."""
    if debt_service <= 0:
        return _ZERO
    if net_income <= 0:
        return None
    return debt_service / net_income


def classify(index: Decimal | None) -> Solvency:
    """≤ 0.75 solvent, > 0.75 and ≤ 1 at risk, > 1 (or None: no income) insolvent."""
    if index is None or index > INSOLVENT_ABOVE:
        return Solvency.INSOLVENT
    if index > AT_RISK_ABOVE:
        return Solvency.AT_RISK
    return Solvency.SOLVENT


def installment_capacity(grid: Grid, share: Decimal = Decimal("0.5")) -> Decimal:
    """The largest monthly installment the family can carry: `share` of the average surplus
    after existing debt service, rounded down to whole riel, never negative."""
    free = sum(grid.net_income, _ZERO) - sum(grid.debt_service, _ZERO)
    average = free / grid.months
    return max(_ZERO, (average * share).to_integral_value(rounding=ROUND_FLOOR))


def _largest_installment(schedule: Schedule) -> Decimal:
    return max(inst.total for inst in schedule.installments)


def _regular_installment(schedule: Schedule) -> Decimal:
    # Every installment but the last: these grow with the principal (the last one carries the
    # rounding residual, which can shrink as the principal grows).
    body = schedule.installments[:-1] or schedule.installments
    return max(inst.total for inst in body)


def largest_loan(
    capacity: Decimal,
    months: int,
    *,
    product: FoundationProduct | None = None,
    start: date = date(2026, 1, 1),
) -> Decimal:
    """The largest principal (a multiple of `product.step`) whose schedule over `months` has no
    installment above `capacity`; 0 when not even one step fits.

    Bisection over the schedule engine finds the largest principal whose regular installments
    fit (they grow with the principal); then, because the last installment carries a rounding
    residual that is not monotone in the principal, principals are walked down one step at a
    time until the whole schedule fits. The result is exactly the largest fitting principal,
    so it never falls when the capacity rises.
    """
    product = product or FoundationProduct()
    step = product.step
    if capacity <= 0:
        return _ZERO

    def schedule(k: int) -> Schedule:
        return build_schedule(product.terms(step * k, months, start))

    # Rate ≥ 0, so the principal never exceeds the sum of installments: months × capacity.
    hi = int(capacity * months / step) + 1
    lo = 0  # invariant: regular(lo) ≤ capacity (lo = 0 trivially), regular(hi) > capacity
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _regular_installment(schedule(mid)) <= capacity:
            lo = mid
        else:
            hi = mid
    while lo > 0 and _largest_installment(schedule(lo)) > capacity:
        lo -= 1
    return step * lo


@dataclass(frozen=True, slots=True)
class RepaymentPath:
    """Month by month: what was paid, what was short, and the cash left after the installment."""

    paid: tuple[Decimal, ...]
    shortfall: tuple[Decimal, ...]
    cash: tuple[Decimal, ...]

    @property
    def missed_months(self) -> tuple[int, ...]:
        """Months (1-based) in which the installment was not fully met."""
        return tuple(k + 1 for k, short in enumerate(self.shortfall) if short > 0)

    @property
    def total_shortfall(self) -> Decimal:
        """All riel missing from installments over the horizon."""
        return sum(self.shortfall, _ZERO)


def repayment_path(
    available: Sequence[Decimal], installments: Sequence[Decimal], opening_cash: Decimal = _ZERO
) -> RepaymentPath:
    """Carry cash month to month and pay each installment from it.

    `available` is each month's surplus before the installment. The family pays what it can
    (never less than nothing); what is missing is that month's shortfall, not carried as a new
    debt. A month whose cash goes below zero (living costs not covered) ends with zero cash.
    """
    cash = opening_cash
    paid, short, left = [], [], []
    for money_in, due in zip(available, installments, strict=True):
        cash += money_in
        pays = min(max(cash, _ZERO), due)
        paid.append(pays)
        short.append(due - pays)
        cash = max(cash - pays, _ZERO)
        left.append(cash)
    return RepaymentPath(paid=tuple(paid), shortfall=tuple(short), cash=tuple(left))


@dataclass(frozen=True, slots=True)
class Capacity:
    """A family's repayment capacity on a grid (with or without a proposed loan)."""

    net_income: Decimal
    debt_service: Decimal
    index_before: Decimal | None
    solvency_before: Solvency
    index: Decimal | None
    solvency: Solvency
    installment_capacity: Decimal
    largest_loan: Decimal
    path: RepaymentPath

    @property
    def missed_months(self) -> tuple[int, ...]:
        """Months in which the new loan's installment cannot be met."""
        return self.path.missed_months


def assess(
    grid: Grid,
    *,
    share: Decimal = Decimal("0.5"),
    product: FoundationProduct | None = None,
    term: int | None = None,
    start: date = date(2026, 1, 1),
) -> Capacity:
    """Index and class before and with the grid's loan, capacity, largest loan over `term`
    months (default: the grid's months) and the repayment path of the grid's loan."""
    net = sum(grid.net_income, _ZERO)
    existing = sum(grid.debt_service, _ZERO)
    everything = existing + sum(grid.loan, _ZERO)
    before = indebtedness_index(existing, net)
    with_loan = indebtedness_index(everything, net)
    cap = installment_capacity(grid, share)
    available = [grid.net_income[k] - grid.debt_service[k] for k in range(grid.months)]
    return Capacity(
        net_income=net,
        debt_service=everything,
        index_before=before,
        solvency_before=classify(before),
        index=with_loan,
        solvency=classify(with_loan),
        installment_capacity=cap,
        largest_loan=largest_loan(cap, term or grid.months, product=product, start=start),
        path=repayment_path(available, grid.loan, grid.opening_cash),
    )
