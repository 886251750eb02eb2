"""The household grid: dollar conversion, seasons, debts and loan installments by month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
)
from ledger.money import KHR, USD, MoneyError
from ledger.projection import (
    CashLine,
    DebtService,
    ExpenseKind,
    Household,
    IncomeSource,
    build_grid,
    informal_debt_service,
    schedule_payments,
    to_riel,
)
from ledger.schedule import build_schedule

D = Decimal


def tailor() -> Household:
    """The research's tailor: US$70 a month, food US$25, housing US$40, 4,100 riel a dollar."""
    return Household(
        incomes=(CashLine(IncomeSource.ACTIVITY, (D(70),), USD, "tailor shop"),),
        expenses=(
            CashLine(ExpenseKind.FOOD, (D(25),), USD),
            CashLine(ExpenseKind.HOUSING, (D(40),), USD),
        ),
        usd_rate=D(4100),
    )


def test_tailor_grid_is_worked_by_hand() -> None:
    grid = build_grid(tailor(), months=12)
    # 70 × 4,100 = 287,000; 25 × 4,100 = 102,500; 40 × 4,100 = 164,000.
    assert grid.income == (D(287_000),) * 12
    assert grid.expense == (D(266_500),) * 12
    assert grid.net_income == (D(20_500),) * 12
    assert grid.surplus == (D(20_500),) * 12
    assert dict(grid.expenses)[ExpenseKind.FOOD] == (D(102_500),) * 12


def test_dollar_conversion_rounds_half_even_to_the_riel() -> None:
    assert to_riel(D("0.25"), USD, D(4002)) == D(1000)  # 1,000.5 → 1,000 (even)
    assert to_riel(D("0.75"), USD, D(4002)) == D(3002)  # 3,001.5 → 3,002 (even)
    assert to_riel(D(123), KHR, D(4100)) == D(123)


def test_seasonal_farming_follows_the_calendar() -> None:
    harvest = tuple(D(500_000) if m == 12 else D(0) for m in range(1, 13))
    household = Household(
        incomes=(CashLine(IncomeSource.FARMING, harvest, seasonal=True),),
        start=date(2026, 10, 15),
    )
    grid = build_grid(household, months=14)
    # Month 1 is November, so December is month 2 and again month 14.
    assert grid.calendar[:3] == (11, 12, 1)
    farm = grid.income_from(IncomeSource.FARMING)
    assert [k + 1 for k, v in enumerate(farm) if v] == [2, 14]


def test_patterns_repeat_and_debts_end() -> None:
    household = Household(
        incomes=(CashLine(IncomeSource.REMITTANCE, (D(100), D(0), D(0))),),
        debts=(
            informal_debt_service("moneylender", D(300_000), D(10)),
            DebtService("shop credit", (D(5000), D(5000))),
        ),
    )
    grid = build_grid(household, months=6)
    assert grid.income_from(IncomeSource.REMITTANCE) == (D(100), 0, 0, D(100), 0, 0)
    assert grid.debt_service == (D(35_000), D(35_000), *(D(30_000),) * 4)
    assert grid.income_from(IncomeSource.WAGE) == (D(0),) * 6


def test_loan_installments_fall_in_their_months() -> None:
    terms = LoanTerms(
        principal=D(200_000),
        currency=KHR,
        rate=D(1),
        rate_period=RatePeriod.MONTH,
        method=InterestMethod.DECLINING,
        amortization=Amortization.EQUAL_INSTALLMENTS,
        repayments=10,
        disbursed_on=date(2026, 1, 15),
        multiple=D(100),
    )
    schedule = build_schedule(terms)
    payments = schedule_payments(schedule, date(2026, 1, 15), 12)
    assert payments[0] == D(21_100)
    assert payments[10:] == (D(0), D(0))
    assert sum(payments) == schedule.total
    weekly = build_schedule(
        LoanTerms(
            principal=D(40_000),
            currency=KHR,
            rate=D(0),
            rate_period=RatePeriod.MONTH,
            method=InterestMethod.DECLINING,
            amortization=Amortization.EQUAL_PRINCIPAL,
            repayments=8,
            disbursed_on=date(2026, 1, 1),
            unit=FrequencyUnit.WEEK,
        )
    )
    # Eight weekly 5,000s from 8 January: four in January (before month 1, left out) and
    # four in February (month 1).
    assert schedule_payments(weekly, date(2026, 1, 1), 3) == (D(20_000), D(0), D(0))


def test_bad_lines_are_refused() -> None:
    with pytest.raises(MoneyError):
        CashLine(IncomeSource.WAGE, ())
    with pytest.raises(MoneyError):
        CashLine(IncomeSource.FARMING, (D(1),) * 11, seasonal=True)
    with pytest.raises(MoneyError):
        CashLine(ExpenseKind.FOOD, (D(-1),))
    with pytest.raises(TypeError):
        CashLine(ExpenseKind.FOOD, (1.5,))  # type: ignore[arg-type]
