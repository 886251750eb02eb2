"""The Foundation's loan against the moneylender's, in the family's own numbers.

The informal offers are those of `ledger.disclosure.compare_informal`: the same principal and
number of monthly payments at 10 % and 15 % a month, each interest-only (principal repaid at
the end) and flat amortised, amounts to the riel. For a household, every offer is also set in
its grid: the net indebtedness index and class with that loan, the months it cannot pay, and
whether the financed activity still covers its financing — the principal left after the
activity's outlay, plus the activity's net cash over the horizon, pays every installment.
`saving` is the riel the family keeps by borrowing from the Foundation (informal interest
minus the Foundation's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.disclosure import (
    Disclosure,
    InformalOffer,
    compare_informal,
    disclose,
    informal_terms,
)
from ledger.loan_terms import InterestMethod, LoanTerms, Schedule
from ledger.projection.activities import Activity, activity_flows
from ledger.projection.capacity import FoundationProduct, Solvency, assess
from ledger.projection.cashflow import Household, calendar_months
from ledger.projection.viability import activity_grid
from ledger.schedule import build_schedule

__all__ = [
    "INFORMAL_RATES",
    "Comparison",
    "FinancingOption",
    "compare_financing",
    "foundation_vs_informal",
]

INFORMAL_RATES = (Decimal(10), Decimal(15))
_FORMS = (("interest-only", InterestMethod.INTEREST_ONLY), ("flat", InterestMethod.FLAT))


@dataclass(frozen=True, slots=True)
class Comparison:
    """The Foundation's schedule and price, and the informal offers for the same loan."""

    schedule: Schedule
    disclosure: Disclosure
    offers: tuple[InformalOffer, ...]


def foundation_vs_informal(
    principal: Decimal,
    months: int,
    *,
    product: FoundationProduct | None = None,
    start: date = date(2026, 1, 1),
    monthly_rates: Sequence[Decimal] = INFORMAL_RATES,
) -> Comparison:
    """The loan at the Foundation's terms and at each informal rate (what `fsf compare` shows)."""
    product = product or FoundationProduct()
    schedule = build_schedule(product.terms(principal, months, start))
    return Comparison(
        schedule=schedule,
        disclosure=disclose(schedule),
        offers=compare_informal(schedule, monthly_rates=monthly_rates),
    )


@dataclass(frozen=True, slots=True)
class FinancingOption:
    """One way of financing the loan, set in the household's grid."""

    label: str
    monthly_rate: Decimal
    form: str
    installment: Decimal
    last_installment: Decimal
    total_interest: Decimal
    index: Decimal | None
    solvency: Solvency
    missed_months: tuple[int, ...]
    covers_financing: bool | None
    saving: Decimal


def _informal_schedule(base: LoanTerms, rate: Decimal, method: InterestMethod) -> Schedule:
    return build_schedule(informal_terms(base, rate, method))


def compare_financing(
    household: Household,
    *,
    principal: Decimal,
    months: int,
    activity: Activity | None = None,
    product: FoundationProduct | None = None,
    monthly_rates: Sequence[Decimal] = INFORMAL_RATES,
) -> tuple[FinancingOption, ...]:
    """The Foundation's loan first, then each informal offer, all over `months` months."""
    product = product or FoundationProduct()
    base = build_schedule(product.terms(principal, months, household.start))
    options = [("Foundation", product.rate, "declining", base)]
    for rate in monthly_rates:
        for form, method in _FORMS:
            label = f"{rate.normalize():f} % a month, {form}"
            options.append((label, rate, form, _informal_schedule(base.terms, rate, method)))
    outlay = net = None
    if activity is not None:
        flows = activity_flows(activity, months, calendar_months(household.start, months))
        outlay, net = flows.outlay, sum(flows.net, Decimal(0))
    out = []
    for label, rate, form, schedule in options:
        grid = activity_grid(household, activity, schedule, months)
        cap = assess(grid, product=product, start=household.start)
        covers = None
        if outlay is not None and net is not None:
            covers = principal - outlay + net - schedule.total >= 0
        out.append(
            FinancingOption(
                label=label,
                monthly_rate=rate,
                form=form,
                installment=schedule.installments[0].total,
                last_installment=schedule.installments[-1].total,
                total_interest=schedule.total_interest,
                index=cap.index,
                solvency=cap.solvency,
                missed_months=cap.missed_months,
                covers_financing=covers,
                saving=schedule.total_interest - base.total_interest,
            )
        )
    return tuple(out)
