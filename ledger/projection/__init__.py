"""Household projections: cash-flow grid, repayment capacity, business viability, the informal
comparison, stress tests and a seeded Monte Carlo — pure functions, no I/O.

A service fills the frozen input records (`Household`, `CashLine`, `DebtService`, `Activity`)
from the database and calls these functions; nothing here reads or writes storage.
"""

from ledger.projection.activities import (
    DEFAULTS,
    Activity,
    ActivityFlows,
    ActivityKind,
    activity_flows,
    default_activity,
)
from ledger.projection.capacity import (
    Capacity,
    FoundationProduct,
    RepaymentPath,
    Solvency,
    assess,
    classify,
    indebtedness_index,
    installment_capacity,
    largest_loan,
    repayment_path,
)
from ledger.projection.cashflow import (
    CashLine,
    DebtService,
    ExpenseKind,
    Grid,
    Household,
    IncomeSource,
    build_grid,
    informal_debt_service,
    schedule_payments,
    to_riel,
)
from ledger.projection.informal import (
    Comparison,
    FinancingOption,
    compare_financing,
    foundation_vs_informal,
)
from ledger.projection.montecarlo import MonteCarloResult, Uncertainty, simulate, simulate_grid
from ledger.projection.stress import DEFAULT_SHOCKS, Shock, ShockKind, StressResult, stress_test
from ledger.projection.viability import Plan, Viability, activity_grid, balloon_plans, evaluate

__all__ = [
    "DEFAULTS",
    "DEFAULT_SHOCKS",
    "Activity",
    "ActivityFlows",
    "ActivityKind",
    "Capacity",
    "CashLine",
    "Comparison",
    "DebtService",
    "ExpenseKind",
    "FinancingOption",
    "FoundationProduct",
    "Grid",
    "Household",
    "IncomeSource",
    "MonteCarloResult",
    "Plan",
    "RepaymentPath",
    "Shock",
    "ShockKind",
    "Solvency",
    "StressResult",
    "Uncertainty",
    "Viability",
    "activity_flows",
    "activity_grid",
    "assess",
    "balloon_plans",
    "build_grid",
    "classify",
    "compare_financing",
    "default_activity",
    "evaluate",
    "foundation_vs_informal",
    "indebtedness_index",
    "informal_debt_service",
    "installment_capacity",
    "largest_loan",
    "repayment_path",
    "schedule_payments",
    "simulate",
    "simulate_grid",
    "stress_test",
    "to_riel",
]
