"""The Foundation's loan against the moneylender's, alone and in a family's grid."""

from __future__ import annotations

from decimal import Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st
from test_projection_oracle import foundation_rows

from ledger.disclosure import percent
from ledger.money import USD
from ledger.projection import (
    CashLine,
    ExpenseKind,
    FoundationProduct,
    Household,
    IncomeSource,
    Solvency,
    compare_financing,
    default_activity,
    foundation_vs_informal,
)

D = Decimal


def test_the_issue_example_by_hand() -> None:
    comparison = foundation_vs_informal(D(200_000), 10)
    # "About 11,000" at the Foundation; 200,000–300,000 at 10–15 % a month.
    assert comparison.schedule.total_interest == sum(foundation_rows(200_000, 10)) - 200_000
    assert comparison.schedule.total_interest == D(11_171)
    offers = {(o.monthly_rate, o.form): o for o in comparison.offers}
    io10, flat10 = offers[(D(10), "interest-only")], offers[(D(10), "flat")]
    io15, flat15 = offers[(D(15), "interest-only")], offers[(D(15), "flat")]
    assert (io10.installment, io10.last_installment, io10.total_interest) == (
        D(20_000),
        D(220_000),
        D(200_000),
    )
    assert (flat10.installment, flat10.total_interest) == (D(40_000), D(200_000))
    assert (io15.installment, io15.last_installment, io15.total_interest) == (
        D(30_000),
        D(230_000),
        D(300_000),
    )
    assert (flat15.installment, flat15.total_interest) == (D(50_000), D(300_000))
    assert io10.saving == D(200_000 - 11_171) and flat15.saving == D(300_000 - 11_171)


def test_informal_rates_against_an_independent_irr() -> None:
    comparison = foundation_vs_informal(D(200_000), 10)
    for offer in comparison.offers:
        flows = [-200_000] + [int(offer.installment)] * 9 + [int(offer.last_installment)]
        monthly = npf.irr(flows)
        assert percent(offer.apr) == f"{monthly * 1200:.2f}"
        assert percent(offer.eir) == f"{((1 + monthly) ** 12 - 1) * 100:.2f}"


def tailor() -> Household:
    return Household(
        incomes=(CashLine(IncomeSource.ACTIVITY, (D(70),), USD),),
        expenses=(
            CashLine(ExpenseKind.FOOD, (D(25),), USD),
            CashLine(ExpenseKind.HOUSING, (D(40),), USD),
        ),
        usd_rate=D(4100),
    )


def test_tailor_index_under_each_lender() -> None:
    options = compare_financing(tailor(), principal=D(90_000), months=10)
    foundation, *informal = options
    assert foundation.label == "Foundation"
    # Net income 205,000 over ten months.
    assert foundation.index == sum(foundation_rows(90_000, 10)) / D(205_000)
    assert foundation.solvency is Solvency.SOLVENT and foundation.missed_months == ()
    # 10 % interest-only: 9,000 a month and 90,000 back at the end: 180,000 / 205,000.
    io10 = informal[0]
    assert io10.index == D(180_000) / D(205_000) and io10.solvency is Solvency.AT_RISK
    # 15 % flat: 9,000 + 13,500 = 22,500 a month, 225,000 in all: insolvent.
    flat15 = informal[3]
    assert flat15.installment == D(22_500) and flat15.solvency is Solvency.INSOLVENT
    assert all(o.covers_financing is None for o in options)


def test_whether_the_activity_covers_its_financing() -> None:
    household = Household(incomes=(CashLine(IncomeSource.WAGE, (D(100_000),)),))
    options = compare_financing(
        household, principal=D(700_000), months=10, activity=default_activity("pig-fattening")
    )
    # Pigs over ten months: 700,000 − 550,000 outlay + (3,078,000 − 1,600,000) net = 1,628,000
    # against 700,000 + interest, so interest up to 928,000 is covered: the Foundation's and
    # 10 % a month (700,000) are; 15 % a month (1,050,000) is not.
    covers = {o.label: o.covers_financing for o in options}
    assert covers["Foundation"] is True
    assert covers["10 % a month, interest-only"] is True
    assert covers["10 % a month, flat"] is True
    assert covers["15 % a month, interest-only"] is False
    assert covers["15 % a month, flat"] is False


@settings(max_examples=50, deadline=None)
@given(
    principal=st.integers(1, 500).map(lambda k: D(k * 10_000)),
    months=st.integers(1, 36),
    halves=st.integers(3, 60),
)
def test_informal_always_costs_more_above_the_foundation_rate(
    principal: Decimal, months: int, halves: int
) -> None:
    rate = D(halves) / 2  # 1.5 % to 30 % a month, all above the Foundation's 1 %
    comparison = foundation_vs_informal(principal, months, monthly_rates=(rate,))
    cost = comparison.schedule.total_interest
    for offer in comparison.offers:
        assert offer.total_interest > cost
        assert offer.saving > 0
        assert offer.apr > comparison.disclosure.apr


def test_a_dearer_foundation_rate_saves_less() -> None:
    cheap = foundation_vs_informal(D(200_000), 10)
    dear = foundation_vs_informal(D(200_000), 10, product=FoundationProduct(rate=D(2)))
    assert all(d.saving < c.saving for c, d in zip(cheap.offers, dear.offers, strict=True))
