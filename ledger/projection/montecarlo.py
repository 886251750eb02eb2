"""A seeded Monte Carlo of a family's repayments under uncertain prices, herds and shocks.

Each scenario draws, from one NumPy generator seeded by `seed` (same seed, same answer):
- a price level for the whole horizon, uniform in [price_low, price_high] (per mille), applied
  to the activity's sales and farm income (a −40 % fall is inside the default range);
- a month of disease (monthly probability `disease`) whose next activity sale loses a share of
  the herd, uniform in [loss_low, loss_high];
- flood or drought months (monthly probability `flood`): no farm income, no activity sale;
- the month a wage job is lost (monthly probability `job_loss`), with no wage after it.
The family's cash then carries month to month exactly as in `capacity.repayment_path`.

Everything is integer: riel are int64 arrays, price levels and shares are per mille, and an
event of probability n/d happens when a uniform integer in [0, d) is below n — so no binary
floating point enters the simulation. Amounts scaled per mille are rounded down to the riel.
Results are `Decimal`: the probability that the family misses at least one installment, and
the expected shortfall (mean riel missing over the horizon per scenario, HALF_EVEN).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from ledger.loan_terms import Schedule
from ledger.money import KHR, round_half_even
from ledger.projection.activities import Activity
from ledger.projection.cashflow import Grid, Household, IncomeSource
from ledger.projection.viability import activity_grid

__all__ = ["MonteCarloResult", "Uncertainty", "simulate", "simulate_grid"]

Ints = npt.NDArray[np.int64]
_MILLE = 1000


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """What is uncertain: per-mille price and herd-loss ranges, monthly event probabilities."""

    price_low: int = 600
    price_high: int = 1100
    disease: Fraction = Fraction(1, 24)
    loss_low: int = 200
    loss_high: int = 1000
    flood: Fraction = Fraction(1, 24)
    job_loss: Fraction = Fraction(1, 48)

    def __post_init__(self) -> None:
        if not 0 <= self.price_low <= self.price_high:
            raise ValueError("price levels are per mille with 0 ≤ low ≤ high")
        if not 0 <= self.loss_low <= self.loss_high <= _MILLE:
            raise ValueError("herd losses are per mille with 0 ≤ low ≤ high ≤ 1000")
        for p in (self.disease, self.flood, self.job_loss):
            if not isinstance(p, Fraction) or not 0 <= p <= 1:
                raise ValueError("event probabilities are Fractions between 0 and 1")


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    """The simulated risk of a loan for one family."""

    probability_of_missed_installment: Decimal
    expected_shortfall: Decimal
    worst_shortfall: Decimal
    scenarios: int
    months: int
    seed: int


def _riel_array(row: tuple[Decimal, ...]) -> Ints:
    return np.array([int(round_half_even(v, KHR)) for v in row], dtype=np.int64)


def _happens(
    rng: np.random.Generator, p: Fraction, shape: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Independent events of probability p, drawn as integers (no floating point)."""
    return rng.integers(0, p.denominator, size=shape, dtype=np.int64) < p.numerator


def _first(events: npt.NDArray[np.bool_]) -> Ints:
    """Index of each row's first event, or the row length when there is none."""
    months = events.shape[1]
    first: Ints = np.where(events.any(axis=1), events.argmax(axis=1), months).astype(np.int64)
    return first


def simulate_grid(
    grid: Grid, *, scenarios: int = 10_000, seed: int = 0, uncertainty: Uncertainty | None = None
) -> MonteCarloResult:
    """Simulate the grid's loan repayments over the grid's months (see the module notes)."""
    if scenarios < 1:
        raise ValueError("a simulation needs at least one scenario")
    u = uncertainty or Uncertainty()
    rng = np.random.default_rng(seed)
    s, m = scenarios, grid.months
    shape = (s, m)
    sales = _riel_array(grid.income_from(IncomeSource.ACTIVITY))
    farm = _riel_array(grid.income_from(IncomeSource.FARMING))
    wage = _riel_array(grid.income_from(IncomeSource.WAGE))
    rest = _riel_array(grid.income) - sales - farm - wage
    outgo = _riel_array(grid.expense) + _riel_array(grid.activity_costs)
    outgo = outgo + _riel_array(grid.debt_service)
    due = _riel_array(grid.loan)

    price = rng.integers(u.price_low, u.price_high + 1, size=(s, 1), dtype=np.int64)
    act = sales[None, :] * price // _MILLE
    farming = farm[None, :] * price // _MILLE
    # Disease: the first sale at or after the outbreak loses a share of the herd.
    outbreak = _first(_happens(rng, u.disease, shape))
    share = rng.integers(u.loss_low, u.loss_high + 1, size=s, dtype=np.int64)
    sale_months = np.flatnonzero(sales > 0)
    nxt = np.searchsorted(sale_months, outbreak)
    struck = nxt < sale_months.size
    rows = np.flatnonzero(struck)
    cols = sale_months[nxt[struck]]
    act[rows, cols] = act[rows, cols] * (_MILLE - share[rows]) // _MILLE
    flooded = _happens(rng, u.flood, shape)
    act = np.where(flooded, 0, act)
    farming = np.where(flooded, 0, farming)
    lost_from = _first(_happens(rng, u.job_loss, shape))
    wages = np.where(np.arange(m)[None, :] >= lost_from[:, None], 0, wage[None, :])
    available = act + farming + wages + rest[None, :] - outgo[None, :]

    cash = np.full(s, int(round_half_even(grid.opening_cash, KHR)), dtype=np.int64)
    shortfall = np.zeros(s, dtype=np.int64)
    missed = np.zeros(s, dtype=np.bool_)
    for k in range(m):
        cash += available[:, k]
        pays = np.clip(cash, 0, due[k])
        short = due[k] - pays
        shortfall += short
        missed |= short > 0
        cash = np.maximum(cash - pays, 0)
    total = int(shortfall.sum())
    return MonteCarloResult(
        probability_of_missed_installment=Decimal(int(missed.sum())) / Decimal(s),
        expected_shortfall=round_half_even(Decimal(total) / Decimal(s), KHR),
        worst_shortfall=Decimal(int(shortfall.max())),
        scenarios=s,
        months=m,
        seed=seed,
    )


def simulate(
    household: Household,
    loan: Schedule,
    *,
    scenarios: int = 10_000,
    months: int = 24,
    seed: int = 0,
    activity: Activity | None = None,
    uncertainty: Uncertainty | None = None,
) -> MonteCarloResult:
    """The probability that the family misses an installment of `loan`, and the expected
    shortfall in riel, over `scenarios` seeded scenarios of `months` months."""
    grid = activity_grid(household, activity, loan, months)
    return simulate_grid(grid, scenarios=scenarios, seed=seed, uncertainty=uncertainty)
