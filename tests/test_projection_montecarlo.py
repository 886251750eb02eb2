"""The seeded Monte Carlo: reproducible, fast, and equal to hand results in certain worlds."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from test_projection_oracle import foundation_rows

from ledger.money import USD
from ledger.projection import (
    CashLine,
    ExpenseKind,
    FoundationProduct,
    Household,
    IncomeSource,
    Uncertainty,
    default_activity,
    simulate,
)
from ledger.schedule import build_schedule

D = Decimal
CERTAIN = Uncertainty(
    price_low=1000, price_high=1000, disease=Fraction(0), flood=Fraction(0), job_loss=Fraction(0)
)


def tailor(extra: int = 0) -> Household:
    return Household(
        incomes=(
            CashLine(IncomeSource.WAGE, (D(70),), USD),
            CashLine(IncomeSource.OTHER, (D(extra),)),
        ),
        expenses=(
            CashLine(ExpenseKind.FOOD, (D(25),), USD),
            CashLine(ExpenseKind.HOUSING, (D(40),), USD),
        ),
        usd_rate=D(4100),
    )


def loan(principal: int = 200_000, months: int = 10):  # type: ignore[no-untyped-def]
    return build_schedule(FoundationProduct().terms(D(principal), months, tailor().start))


def test_a_certain_world_matches_the_hand_path() -> None:
    result = simulate(tailor(), loan(), scenarios=100, months=24, uncertainty=CERTAIN)
    # 20,500 a month against 21,100 (and 21,271 last): 600 short nine times, then 771.
    rows = foundation_rows(200_000, 10)
    assert rows[-1] == D(21_271)
    assert result.probability_of_missed_installment == 1
    assert result.expected_shortfall == D(600 * 9 + 771)


def test_a_lost_job_in_month_one_misses_everything() -> None:
    gone = Uncertainty(
        price_low=1000,
        price_high=1000,
        disease=Fraction(0),
        flood=Fraction(0),
        job_loss=Fraction(1),
    )
    schedule = loan(90_000)
    result = simulate(tailor(), schedule, scenarios=50, uncertainty=gone)
    assert result.probability_of_missed_installment == 1
    assert result.expected_shortfall == schedule.total


def test_a_halved_price_halves_the_sale() -> None:
    half = Uncertainty(
        price_low=500, price_high=500, disease=Fraction(0), flood=Fraction(0), job_loss=Fraction(0)
    )
    household = Household(incomes=(CashLine(IncomeSource.WAGE, (D(100_000),)),))
    pig = default_activity("pig-fattening")
    schedule = build_schedule(
        FoundationProduct().terms(D(550_000), 5, household.start, balloon=True)
    )
    # Balloon 550,000 + 5 × 5,500 = 577,500 in month 5. Cash: 0 left after the outlay,
    # −20,000 a month for four months (floored at 0), then 100,000 − 120,000 feed − 400,000
    # new piglets + 769,500 (half of 1,539,000) = 349,500: short 228,000.
    result = simulate(household, schedule, activity=pig, scenarios=20, months=10, uncertainty=half)
    assert result.expected_shortfall == D(228_000)
    assert result.probability_of_missed_installment == 1
    full = simulate(household, schedule, activity=pig, scenarios=20, months=10, uncertainty=CERTAIN)
    assert full.expected_shortfall == 0 and full.probability_of_missed_installment == 0


def test_same_seed_same_answer_and_fast() -> None:
    household = Household(
        incomes=(
            CashLine(IncomeSource.WAGE, (D(150_000),)),
            CashLine(IncomeSource.FARMING, (D(0), D(0), D(200_000))),
        ),
        expenses=(CashLine(ExpenseKind.FOOD, (D(110_000),)),),
    )
    schedule = loan(1_100_000, 12)
    pig = default_activity("pig-fattening")
    start = time.perf_counter()
    first = simulate(household, schedule, activity=pig, scenarios=10_000, months=24, seed=7)
    elapsed = time.perf_counter() - start
    again = simulate(household, schedule, activity=pig, scenarios=10_000, months=24, seed=7)
    assert first == again
    assert elapsed < 1.0
    assert 0 < first.probability_of_missed_installment < 1
    assert 0 < first.expected_shortfall <= first.worst_shortfall


@settings(max_examples=15, deadline=None)
@given(extra=st.integers(1, 200_000), seed=st.integers(0, 2**32))
def test_more_income_never_raises_the_risk(extra: int, seed: int) -> None:
    pig = default_activity("pig-fattening")
    schedule = loan(700_000, 10)
    poor = simulate(tailor(), schedule, activity=pig, scenarios=500, months=12, seed=seed)
    rich = simulate(tailor(extra), schedule, activity=pig, scenarios=500, months=12, seed=seed)
    assert rich.probability_of_missed_installment <= poor.probability_of_missed_installment
    assert rich.expected_shortfall <= poor.expected_shortfall
    assert 0 <= poor.probability_of_missed_installment <= 1
