"""Named shocks applied to a household's grid, and the capacity under each.

A shock changes the grid's rows, never the inputs, so the same grid (with its activity and
loan) can be shaken several ways:
- price fall: the activity's sales and farm income fall by `share` (default 40 %; Svay Rieng
  pork fell from 11,000 to 6,000 riel/kg, −45 %, when imports arrived);
- livestock death: the first activity sale at or after `month` loses `share` of the herd
  (default half); its costs were already paid;
- flood or drought: no farm income and no activity sale in `month` (default: the month in
  which they are largest, the worst case);
- lost wage job: no wage from `month` on (default month 1).
Amounts scaled by a share are rounded HALF_EVEN to whole riel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledger.money import KHR, round_half_even
from ledger.projection.capacity import Capacity, FoundationProduct, assess
from ledger.projection.cashflow import Grid, IncomeSource

__all__ = ["DEFAULT_SHOCKS", "Shock", "ShockKind", "StressResult", "apply_shock", "stress_test"]

_ZERO = Decimal(0)


class ShockKind(StrEnum):
    """The named shocks of a stress test."""

    PRICE_FALL = "price-fall"
    LIVESTOCK_DEATH = "livestock-death"
    FLOOD = "flood"
    JOB_LOSS = "job-loss"


@dataclass(frozen=True, slots=True)
class Shock:
    """A shock: `share` lost (0–1) for price and herd; `month` (1-based) or None for default."""

    kind: ShockKind
    share: Decimal = Decimal("0.4")
    month: int | None = None

    @property
    def label(self) -> str:
        """A short description for reports."""
        pct = f"{(self.share * 100).normalize():f} %"
        when = f" in month {self.month}" if self.month else ""
        return {
            ShockKind.PRICE_FALL: f"prices fall {pct}",
            ShockKind.LIVESTOCK_DEATH: f"{pct} of the herd dies{when}",
            ShockKind.FLOOD: f"flood or drought{when or ' in the best month'}",
            ShockKind.JOB_LOSS: f"wage job lost from month {self.month or 1}",
        }[self.kind]


DEFAULT_SHOCKS = (
    Shock(ShockKind.PRICE_FALL, Decimal("0.4")),
    Shock(ShockKind.LIVESTOCK_DEATH, Decimal("0.5"), 1),
    Shock(ShockKind.FLOOD, Decimal(1)),
    Shock(ShockKind.JOB_LOSS, Decimal(1), 1),
)


def _scaled(
    row: Sequence[Decimal], factor: Decimal, months: set[int] | None
) -> tuple[Decimal, ...]:
    return tuple(
        round_half_even(v * factor, KHR) if months is None or k in months else v
        for k, v in enumerate(row)
    )


def apply_shock(grid: Grid, shock: Shock) -> Grid:
    """The grid as it would be under `shock` (a new grid; the original is unchanged)."""
    keep = 1 - shock.share
    activity = grid.income_from(IncomeSource.ACTIVITY)
    farming = grid.income_from(IncomeSource.FARMING)
    hit: dict[IncomeSource, tuple[Decimal, ...]] = {}
    if shock.kind == ShockKind.PRICE_FALL:
        hit = {
            s: _scaled(grid.income_from(s), keep, None)
            for s in (IncomeSource.ACTIVITY, IncomeSource.FARMING)
        }
    elif shock.kind == ShockKind.LIVESTOCK_DEATH:
        start = (shock.month or 1) - 1
        sale = next((k for k in range(start, grid.months) if activity[k] > 0), None)
        months = {sale} if sale is not None else set()
        hit = {IncomeSource.ACTIVITY: _scaled(activity, keep, months)}
    elif shock.kind == ShockKind.FLOOD:
        if shock.month is not None:
            k = shock.month - 1
        else:
            k = max(range(grid.months), key=lambda m: activity[m] + farming[m])
        hit = {
            s: _scaled(grid.income_from(s), _ZERO, {k})
            for s in (IncomeSource.ACTIVITY, IncomeSource.FARMING)
        }
    else:
        start = (shock.month or 1) - 1
        wage = grid.income_from(IncomeSource.WAGE)
        hit = {IncomeSource.WAGE: _scaled(wage, keep, set(range(start, grid.months)))}
    incomes = tuple((s, hit.get(s, row)) for s, row in grid.incomes)
    return replace(grid, incomes=incomes)


@dataclass(frozen=True, slots=True)
class StressResult:
    """A shock, the grid under it and the family's capacity then."""

    shock: Shock
    grid: Grid
    capacity: Capacity


def stress_test(
    grid: Grid,
    shocks: Sequence[Shock] = DEFAULT_SHOCKS,
    *,
    share: Decimal = Decimal("0.5"),
    product: FoundationProduct | None = None,
    term: int | None = None,
    start: date = date(2026, 1, 1),
) -> tuple[StressResult, ...]:
    """The grid and capacity under each shock, in the order given."""
    out = []
    for shock in shocks:
        shaken = apply_shock(grid, shock)
        cap = assess(shaken, share=share, product=product, term=term, start=start)
        out.append(StressResult(shock, shaken, cap))
    return tuple(out)
