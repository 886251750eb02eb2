"""Named shocks on a hand-built grid."""

from __future__ import annotations

from decimal import Decimal

from ledger.projection import (
    CashLine,
    ExpenseKind,
    FoundationProduct,
    Household,
    IncomeSource,
    Shock,
    ShockKind,
    Solvency,
    build_grid,
    stress_test,
)
from ledger.projection.stress import apply_shock
from ledger.schedule import build_schedule

D = Decimal
MONTHS = 6


def grid():  # type: ignore[no-untyped-def]
    household = Household(
        incomes=(
            CashLine(IncomeSource.WAGE, (D(120_000),)),
            CashLine(IncomeSource.FARMING, (D(0), D(0), D(90_000))),
        ),
        expenses=(CashLine(ExpenseKind.FOOD, (D(100_000),)),),
    )
    loan = build_schedule(FoundationProduct().terms(D(100_000), MONTHS, household.start))
    sales = (D(0), D(0), D(0), D(500_001), D(0), D(0))
    costs = (D(20_000),) * MONTHS
    return build_grid(
        household, months=MONTHS, activity_revenue=sales, activity_costs=costs, loan=loan
    )


def test_price_fall_cuts_sales_and_farm_income() -> None:
    base = grid()
    shaken = apply_shock(base, Shock(ShockKind.PRICE_FALL, D("0.4")))
    # 60 % of 500,001 = 300,000.6 → 300,001 (HALF_EVEN); 60 % of 90,000 = 54,000.
    assert shaken.income_from(IncomeSource.ACTIVITY)[3] == D(300_001)
    assert shaken.income_from(IncomeSource.FARMING)[2] == D(54_000)
    assert shaken.income_from(IncomeSource.WAGE) == base.income_from(IncomeSource.WAGE)
    assert base.income_from(IncomeSource.ACTIVITY)[3] == D(500_001)  # the original is intact


def test_livestock_death_hits_the_next_sale() -> None:
    shaken = apply_shock(grid(), Shock(ShockKind.LIVESTOCK_DEATH, D("0.5"), month=2))
    assert shaken.income_from(IncomeSource.ACTIVITY)[3] == D(250_000)  # 250,000.5 → even
    late = apply_shock(grid(), Shock(ShockKind.LIVESTOCK_DEATH, D("0.5"), month=5))
    assert late.income_from(IncomeSource.ACTIVITY) == grid().income_from(IncomeSource.ACTIVITY)


def test_flood_takes_the_best_month_by_default() -> None:
    shaken = apply_shock(grid(), Shock(ShockKind.FLOOD, D(1)))
    assert shaken.income_from(IncomeSource.ACTIVITY)[3] == 0
    assert shaken.income_from(IncomeSource.FARMING)[2] == D(90_000)
    chosen = apply_shock(grid(), Shock(ShockKind.FLOOD, D(1), month=3))
    assert chosen.income_from(IncomeSource.FARMING)[2] == 0
    assert chosen.income_from(IncomeSource.ACTIVITY)[3] == D(500_001)


def test_lost_job_and_capacity_under_each_shock() -> None:
    results = stress_test(grid(), (Shock(ShockKind.JOB_LOSS, D(1), month=4),))
    (lost,) = results
    assert lost.grid.income_from(IncomeSource.WAGE) == (D(120_000),) * 3 + (D(0),) * 3
    # Net income before the shock: 6 × 120,000 + 2 × 90,000 (months 3 and 6) + 500,001
    # − 6 × 100,000 − 6 × 20,000 = 680,001; after it 360,000 less: 320,001.
    assert sum(grid().net_income) == D(680_001)
    assert lost.capacity.net_income == D(320_001)
    # Half of 320,001 / 6 = 26,666.75, rounded down.
    assert lost.capacity.installment_capacity == D(26_666)
    defaults = stress_test(grid())
    assert [r.shock.kind for r in defaults] == list(ShockKind)
    assert all(r.capacity.solvency in Solvency for r in defaults)
    # Every shock leaves the family no better off.
    base = sum(grid().surplus)
    assert all(sum(r.grid.surplus) <= base for r in defaults)
