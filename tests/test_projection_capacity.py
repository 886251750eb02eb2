"""Repayment capacity: thresholds, installment capacity, largest loan, missed months."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from test_projection_oracle import foundation_rows

from ledger.money import USD
from ledger.projection import (
    CashLine,
    DebtService,
    ExpenseKind,
    FoundationProduct,
    Household,
    IncomeSource,
    Solvency,
    assess,
    build_grid,
    classify,
    indebtedness_index,
    installment_capacity,
    largest_loan,
    repayment_path,
)
from ledger.schedule import build_schedule

D = Decimal


def tailor(extra_debt: Decimal = Decimal(0)) -> Household:
    return Household(
        incomes=(CashLine(IncomeSource.ACTIVITY, (D(70),), USD),),
        expenses=(
            CashLine(ExpenseKind.FOOD, (D(25),), USD),
            CashLine(ExpenseKind.HOUSING, (D(40),), USD),
        ),
        debts=(DebtService("shop", (extra_debt,), repeat=True),) if extra_debt else (),
        usd_rate=D(4100),
    )


def test_thresholds_at_each_boundary() -> None:
    assert classify(D(0)) is Solvency.SOLVENT
    assert classify(D("0.75")) is Solvency.SOLVENT
    assert classify(D("0.7500001")) is Solvency.AT_RISK
    assert classify(D("0.76")) is Solvency.AT_RISK
    assert classify(D(1)) is Solvency.AT_RISK
    assert classify(D("1.0000001")) is Solvency.INSOLVENT
    assert classify(None) is Solvency.INSOLVENT


def test_index_is_debt_over_net_income_before_debt() -> None:
    assert indebtedness_index(D(75), D(100)) == D("0.75")
    assert indebtedness_index(D(0), D(-5)) == 0
    assert indebtedness_index(D(1), D(0)) is None
    # Exactly 75 %, 100 % and just over, on a real grid: net income 20,500 a month.
    for debt, expected in (
        (15_375, Solvency.SOLVENT),
        (15_376, Solvency.AT_RISK),
        (20_500, Solvency.AT_RISK),
        (20_501, Solvency.INSOLVENT),
    ):
        cap = assess(build_grid(tailor(D(debt)), months=12))
        assert cap.solvency_before is expected, debt


def test_tailor_capacity_and_largest_loan_by_hand() -> None:
    grid = build_grid(tailor(), months=10)
    cap = assess(grid)
    # Surplus 20,500 a month; half of it is 10,250 riel.
    assert cap.installment_capacity == D(10_250)
    # 90,000 over 10 months at 1 %: PMT 9,502.4 → 9,500; 100,000: 10,558.2 → 10,600 > 10,250.
    assert max(foundation_rows(90_000, 10)) <= 10_250 < max(foundation_rows(100_000, 10))
    assert cap.largest_loan == D(90_000)
    assert cap.index == 0 and cap.solvency is Solvency.SOLVENT


def test_tailor_cannot_carry_200000() -> None:
    household = tailor()
    product = FoundationProduct()
    schedule = build_schedule(product.terms(D(200_000), 10, household.start))
    cap = assess(build_grid(household, months=10, loan=schedule))
    rows = foundation_rows(200_000, 10)
    assert [i.total for i in schedule.installments] == rows
    assert cap.index == sum(rows) / D(205_000)  # 211,171 / 205,000 > 1
    assert cap.solvency is Solvency.INSOLVENT
    # 21,100 due against 20,500 a month: the cash runs short by 600 in month 1, and so on.
    assert cap.missed_months == tuple(range(1, 11))
    assert cap.path.shortfall[0] == D(600)


def test_repayment_path_carries_cash() -> None:
    path = repayment_path([D(50), D(-30), D(200), D(0)], [D(40), D(40), D(40), D(40)], D(10))
    # Cash 60 → pays 40 (20 left); −10 → pays 0 (short 40, cash 0); 200 → 40 (160); 0 → 40.
    assert path.paid == (D(40), D(0), D(40), D(40))
    assert path.shortfall == (D(0), D(40), D(0), D(0))
    assert path.cash == (D(20), D(0), D(160), D(120))
    assert path.missed_months == (2,)


def test_largest_loan_matches_a_linear_scan() -> None:
    product = FoundationProduct()
    for capacity, months in (
        (D(10_250), 10),
        (D(57_321), 24),
        (D(9_999), 1),
        (D(250_000), 36),
        (D(100), 3),
        (D(196_500), 36),
    ):
        expected = D(0)
        k = 1
        while k * 10_000 <= capacity * months:
            terms = product.terms(D(k * 10_000), months, tailor().start)
            if max(i.total for i in build_schedule(terms).installments) <= capacity:
                expected = D(k * 10_000)
            k += 1
        assert largest_loan(capacity, months) == expected, (capacity, months)


amounts = st.integers(min_value=0, max_value=3_000_000)


@settings(max_examples=60, deadline=None)
@given(income=amounts, food=amounts, debt=st.integers(0, 500_000), months=st.integers(1, 24))
def test_capacity_is_never_negative(income: int, food: int, debt: int, months: int) -> None:
    household = Household(
        incomes=(CashLine(IncomeSource.WAGE, (D(income),)),),
        expenses=(CashLine(ExpenseKind.FOOD, (D(food),)),),
        debts=(DebtService("other", (D(debt),), repeat=True),),
    )
    cap = assess(build_grid(household, months=months))
    assert cap.installment_capacity >= 0
    assert cap.largest_loan >= 0
    assert cap.largest_loan % 10_000 == 0


@settings(max_examples=60, deadline=None)
@given(income=amounts, raise_by=st.integers(1, 1_000_000), food=amounts, months=st.integers(1, 36))
def test_more_income_never_lowers_the_largest_loan(
    income: int, raise_by: int, food: int, months: int
) -> None:
    def loan(wage: int) -> Decimal:
        household = Household(
            incomes=(CashLine(IncomeSource.WAGE, (D(wage),)),),
            expenses=(CashLine(ExpenseKind.FOOD, (D(food),)),),
        )
        grid = build_grid(household, months=months)
        return largest_loan(installment_capacity(grid), months)

    assert loan(income + raise_by) >= loan(income)


@settings(max_examples=40, deadline=None)
@given(cap=st.integers(0, 400_000), more=st.integers(1, 50_000), months=st.integers(1, 36))
def test_largest_loan_is_monotone_and_fits(cap: int, more: int, months: int) -> None:
    low, high = largest_loan(D(cap), months), largest_loan(D(cap + more), months)
    assert high >= low
    if low:
        terms = FoundationProduct().terms(low, months, tailor().start)
        assert max(i.total for i in build_schedule(terms).installments) <= cap
        bigger = FoundationProduct().terms(low + 10_000, months, tailor().start)
        assert max(i.total for i in build_schedule(bigger).installments) > cap
    assert installment_capacity(build_grid(Household(), months=months)) == 0
