"""The demo families' cash-flow grids, recorded on the day each family was registered.

Figures follow the Foundation's field research in Svay Rieng (2007–2008): a main income of
US$30–75 a month (a garment-factory or day-labour wage, a market or sewing activity, or money
sent home), food US$21–30 and housing US$35–50 a month for the household. Most families also
have a second earner (US$25–55) and some rice land, sold after the wet-season harvest: most of
it in December, the rest in January (a few families with irrigated plots also sell a dry-season
crop in April). Families with children at school pay uniforms and books in September, before
the school year opens; some pay for medicines every month. Dollar lines are converted at
4,050–4,150 riel to the dollar, the rate of the day the grid was written down.

`demo_grids(plan)` is pure: only `random.Random(plan.seed * 1_000 + 7)` is consulted, so the same
plan gives the same grids. `build_households` records them through the household service.

A follow-up visit records a new snapshot built on the grid the family has on the day of the
visit (see `ledger.services.training_followups`), so the registration grids are recorded before
the demo's trainings: each visit then replaces the activity income and the food and housing of
the family's registration grid and keeps its wages, rice, schooling and medicines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.demo.records import DemoFamily, DemoPlan
from ledger.money import KHR, USD
from ledger.projection.cashflow import CashLine, ExpenseKind, IncomeSource
from ledger.services.households import record_household_grid

__all__ = ["DemoGrid", "build_households", "demo_grids"]

_MAIN = (  # (source, label, low, high) in dollars a month, weighted below
    (IncomeSource.WAGE, "garment factory, Bavet", 45, 75),
    (IncomeSource.WAGE, "day labour", 30, 55),
    (IncomeSource.ACTIVITY, "market stall", 30, 65),
    (IncomeSource.ACTIVITY, "sewing at home", 35, 70),
    (IncomeSource.REMITTANCE, "son working in Phnom Penh", 30, 50),
)
_MAIN_WEIGHTS = (25, 25, 20, 15, 15)
_SECOND = (
    (IncomeSource.WAGE, "second earner, day labour", 25, 55),
    (IncomeSource.WAGE, "daughter, garment factory", 40, 55),
    (IncomeSource.OTHER, "selling palm sugar", 25, 40),
)
_NO_RICE_LAND = "no rice land"


@dataclass(frozen=True, slots=True)
class DemoGrid:
    """One family's grid as an officer would write it down at registration."""

    family_ref: str
    recorded_on: date
    usd_rate: Decimal
    lines: tuple[CashLine, ...]


def _dollars(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high))


def _seasonal(months: dict[int, int]) -> tuple[Decimal, ...]:
    return tuple(Decimal(months.get(m, 0)) for m in range(1, 13))


def _grid(rng: random.Random, family: DemoFamily) -> DemoGrid:
    source, label, low, high = rng.choices(_MAIN, _MAIN_WEIGHTS)[0]
    lines = [CashLine(source, (_dollars(rng, low, high),), USD, label)]
    if rng.random() < (0.8 if family.household_size >= 3 else 0.4):
        source, label, low, high = rng.choice(_SECOND)
        lines.append(CashLine(source, (_dollars(rng, low, high),), USD, label))
    landless = any(_NO_RICE_LAND in note for _kind, note in family.sensitive)
    if not landless and rng.random() < 0.75:
        harvest = rng.randrange(150_000, 600_001, 10_000)
        later = harvest * rng.choice((20, 30, 40)) // 100 // 1000 * 1000
        sales = {12: harvest - later, 1: later}
        if rng.random() < 0.15:
            sales[4] = rng.randrange(80_000, 200_001, 10_000)
        lines.append(CashLine(IncomeSource.FARMING, _seasonal(sales), KHR, "rice", True))
    lines.append(CashLine(ExpenseKind.FOOD, (_dollars(rng, 21, 30),), USD))
    lines.append(CashLine(ExpenseKind.HOUSING, (_dollars(rng, 35, 50),), USD))
    if family.dependants and rng.random() < 0.6:
        school = rng.randrange(20_000, 60_001, 5_000) * min(family.dependants, 3)
        lines.append(CashLine(ExpenseKind.SCHOOLING, _seasonal({9: school}), KHR,
                              "uniforms and books", True))
    if rng.random() < 0.25:
        lines.append(CashLine(ExpenseKind.HEALTH, (Decimal(rng.randrange(10_000, 30_001, 5_000)),),
                              KHR, "medicines"))
    rate = Decimal(rng.choice((4050, 4100, 4100, 4150)))
    return DemoGrid(family.ref, family.registered_on, rate, tuple(lines))


def demo_grids(plan: DemoPlan) -> tuple[DemoGrid, ...]:
    """A grid for every family of the plan, in the plan's order (pure, seeded)."""
    rng = random.Random(plan.seed * 1_000 + 7)
    return tuple(_grid(rng, family) for family in plan.families)


def build_households(session: Session, plan: DemoPlan, *, actor: Actor,
                     family_ids: dict[str, int]) -> int:
    """Record every demo grid through the household service, in the caller's transaction;
    returns how many were recorded. Run it before the trainings' follow-up visits, which
    update these grids."""
    grids = demo_grids(plan)
    for grid in grids:
        record_household_grid(session, actor=actor, family_id=family_ids[grid.family_ref],
                              lines=grid.lines, recorded_on=grid.recorded_on,
                              usd_rate=grid.usd_rate, rate_on=grid.recorded_on,
                              today=plan.as_of)
    return len(grids)
