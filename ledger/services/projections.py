"""A family's projection: its cash-flow grid with a proposed Foundation loan, what it can carry,
whether the financed activity pays, the moneylender's price for the same loan, named shocks and
a seeded Monte Carlo — the pure functions of `ledger.projection` fed from the ledger.

Decisions:
- The loan would be disbursed on `as_of` and repaid monthly over `months` (the grid's horizon);
  the family's grid is its latest snapshot on or before `as_of` (see `services.households`).
- The Foundation product's rate, method and rounding come from the ledger's FSF product when it
  exists (the defaults of `FoundationProduct` otherwise). An amount or term outside that
  product's limits is projected all the same, with a warning: a projection is a question.
- With an activity but no amount, the amount is the activity's minimum start-up capital
  rounded up to the product's step (10,000 riel), the smallest loan that can start it.
- With neither, there is no new loan: capacity (and the largest loan) and the shocks are shown
  on the family's own grid; financing and the Monte Carlo need a loan and are left out.
- `project_household` does the same for any `Household` — a stored grid, or one being edited
  on the projection screen before it is saved — and reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.loan_terms import Amortization, InterestMethod, Schedule
from ledger.money import KHR, Money
from ledger.projection import (
    DEFAULT_SHOCKS,
    Activity,
    ActivityKind,
    Capacity,
    FinancingOption,
    FoundationProduct,
    Grid,
    Household,
    MonteCarloResult,
    StressResult,
    Viability,
    activity_grid,
    assess,
    compare_financing,
    default_activity,
    evaluate,
    simulate_grid,
    stress_test,
)
from ledger.projection.cashflow import calendar_months
from ledger.schedule import build_schedule
from ledger.services.errors import NotFound, ServiceError
from ledger.services.households import FamilyRef, StoredGrid, build_household
from ledger.services.products import FOUNDATION_PRODUCT, find_product

__all__ = [
    "MAX_MONTHS",
    "SCENARIOS",
    "FamilyProjection",
    "HouseholdProjection",
    "ledger_product",
    "project_family",
    "project_household",
    "simulate_projection",
]

MAX_MONTHS = 120  # as `fsf compare`: far beyond any Foundation loan
SCENARIOS = 10_000


@dataclass(frozen=True, slots=True)
class FamilyProjection:
    """Everything a projection screen or `fsf project --json` shows for one family."""

    family: FamilyRef
    as_of: date
    months: int
    source: StoredGrid
    household: Household
    product: FoundationProduct
    activity: Activity | None
    amount: Decimal | None
    schedule: Schedule | None
    grid: Grid
    capacity: Capacity
    viability: Viability | None
    financing: tuple[FinancingOption, ...]
    stress: tuple[StressResult, ...]
    monte_carlo: MonteCarloResult | None
    warnings: tuple[str, ...]


def ledger_product(session: Session) -> tuple[FoundationProduct, tuple[int, int, int, int]]:
    """The ledger's FSF product as the projections take it, with its limits (principal min
    and max in riel, repayments min and max)."""
    try:
        row = find_product(session, FOUNDATION_PRODUCT.code)
    except NotFound:
        row = FOUNDATION_PRODUCT
    product = FoundationProduct(
        rate=Decimal(row.rate), method=InterestMethod(row.method),
        amortization=Amortization(row.amortization),
        multiple=Decimal(row.multiple_minor or 1))
    limits = (row.min_principal_minor, row.max_principal_minor, row.min_repayments,
              row.max_repayments)
    return product, limits


def _activity(activity: ActivityKind | Activity | str | None) -> Activity | None:
    if activity is None or isinstance(activity, Activity):
        return activity
    try:
        return default_activity(activity)
    except ValueError as exc:
        valid = ", ".join(k.value for k in ActivityKind)
        raise ServiceError(f"{activity!r} is not one of: {valid}", field="activity") from exc


def _limits_warnings(amount: Decimal, months: int,
                     limits: tuple[int, int, int, int]) -> list[str]:
    low, high, shortest, longest = limits
    out = []
    if not low <= amount <= high:
        out.append(f"{Money(amount, KHR)} is outside the Foundation product's limits "
                   f"({Money(Decimal(low), KHR)} to {Money(Decimal(high), KHR)}).")
    if not shortest <= months <= longest:
        out.append(f"{months} monthly repayments is outside the Foundation product's limits "
                   f"({shortest} to {longest}).")
    return out


@dataclass(frozen=True, slots=True)
class HouseholdProjection:
    """A projection of one `Household`, stored or being edited (see `project_household`)."""

    as_of: date
    months: int
    household: Household
    product: FoundationProduct
    activity: Activity | None
    amount: Decimal | None
    schedule: Schedule | None
    grid: Grid
    capacity: Capacity
    viability: Viability | None
    financing: tuple[FinancingOption, ...]
    stress: tuple[StressResult, ...]
    monte_carlo: MonteCarloResult | None
    warnings: tuple[str, ...]


def _refuse_inputs(months: int, amount: Decimal | None, scenarios: int) -> None:
    if not 1 <= months <= MAX_MONTHS:
        raise ServiceError(f"must be between 1 and {MAX_MONTHS}, not {months}", field="months")
    if amount is not None and (amount <= 0 or amount != amount.to_integral_value()):
        raise ServiceError(f"{amount} is not a whole number of riel above zero", field="amount")
    if scenarios < 0:
        raise ServiceError("the number of scenarios cannot be negative", field="scenarios")


def project_household(
    household: Household,
    *,
    product: FoundationProduct,
    limits: tuple[int, int, int, int],
    activity: ActivityKind | Activity | str | None = None,
    amount: Decimal | None = None,
    months: int = 12,
    seed: int = 0,
    scenarios: int = SCENARIOS,
    warnings: tuple[str, ...] = (),
) -> HouseholdProjection:
    """Project `household` over `months` months with a Foundation loan of `amount` riel
    disbursed on `household.start` (see the module notes). Pure; `scenarios=0` leaves the
    Monte Carlo out, for `simulate_projection` to run apart."""
    _refuse_inputs(months, amount, scenarios)
    as_of = household.start
    model = _activity(activity)
    notes = list(warnings)
    viability = None
    if model is not None:
        cal = calendar_months(as_of, months)
        if amount is None:
            need = evaluate(model, capital=Decimal(0), months=months, calendar=cal)
            steps = (need.minimum_capital / product.step).to_integral_value(ROUND_CEILING)
            amount = max(steps, Decimal(1)) * product.step
        viability = evaluate(model, capital=amount, months=months, calendar=cal)
        notes += viability.warnings
    schedule = None
    if amount is not None:
        notes += _limits_warnings(amount, months, limits)
        schedule = build_schedule(product.terms(amount, months, as_of))
    grid = activity_grid(household, model, schedule, months)
    capacity = assess(grid, product=product, term=months, start=as_of)
    financing: tuple[FinancingOption, ...] = ()
    monte_carlo = None
    if amount is not None:
        financing = compare_financing(household, principal=amount, months=months,
                                      activity=model, product=product)
        if scenarios:
            monte_carlo = simulate_grid(grid, scenarios=scenarios, seed=seed)
    stress = stress_test(grid, DEFAULT_SHOCKS, product=product, term=months, start=as_of)
    return HouseholdProjection(
        as_of=as_of, months=months, household=household, product=product, activity=model,
        amount=amount, schedule=schedule, grid=grid, capacity=capacity, viability=viability,
        financing=financing, stress=stress, monte_carlo=monte_carlo,
        warnings=tuple(dict.fromkeys(notes)))


def simulate_projection(projection: HouseholdProjection, *, scenarios: int = SCENARIOS,
                        seed: int = 0) -> MonteCarloResult | None:
    """The seeded Monte Carlo of a projection's loan (None when it proposes no loan)."""
    if scenarios < 1:
        raise ServiceError("a simulation needs at least one scenario", field="scenarios")
    if projection.schedule is None:
        return None
    return simulate_grid(projection.grid, scenarios=scenarios, seed=seed)


def project_family(
    session: Session,
    *,
    actor: Actor,
    family_id: int,
    activity: ActivityKind | Activity | str | None = None,
    amount: Decimal | None = None,
    months: int = 12,
    as_of: date,
    seed: int = 0,
    scenarios: int = SCENARIOS,
) -> FamilyProjection:
    """Project the family's next `months` months with a Foundation loan of `amount` riel
    disbursed on `as_of` (and the financed `activity`, if any). Reading only."""
    actor.require(Permission.READ)
    _refuse_inputs(months, amount, scenarios)
    if scenarios < 1:
        raise ServiceError("a simulation needs at least one scenario", field="scenarios")
    found = build_household(session, actor=actor, family_id=family_id, as_of=as_of)
    product, limits = ledger_product(session)
    p = project_household(found.household, product=product, limits=limits, activity=activity,
                          amount=amount, months=months, seed=seed, scenarios=scenarios,
                          warnings=found.warnings)
    return FamilyProjection(
        family=found.family, as_of=as_of, months=months, source=found.grid,
        household=p.household, product=product, activity=p.activity, amount=p.amount,
        schedule=p.schedule, grid=p.grid, capacity=p.capacity, viability=p.viability,
        financing=p.financing, stress=p.stress, monte_carlo=p.monte_carlo,
        warnings=p.warnings)
