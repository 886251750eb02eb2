"""Is the financed activity viable, and which repayment schedule fits its cash flow?

- Minimum start-up capital = the activity's peak cash need: the outlay before month 1 (equipment
  and first stock) plus the deepest dip of its cumulative cash before sales catch up. Below it
  the family runs out of money before the first sale; the research found 200,000 riel too
  little to start most businesses, and `capital_sufficient` shows when that is so.
- Viable = a positive profit per month and enough capital.
- Return on capital per month = profit per month ÷ minimum capital (a fraction).
- Payback month = the first month whose cumulative cash, outlay included, is back to zero.
- Break-even = the sale price per unit (per kg; per month for a shop) at which a cycle just
  pays its costs.
- For a lumpy activity (a pig sale) `balloon_plans` sets equal monthly installments against a
  grace-then-balloon loan whose one installment falls in the first sale month, both built by
  the schedule engine and checked month by month against the family's cash.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ledger.loan_terms import Schedule
from ledger.money import KHR, round_half_even
from ledger.projection.activities import Activity, ActivityFlows, activity_flows
from ledger.projection.capacity import Capacity, FoundationProduct, assess
from ledger.projection.cashflow import Grid, Household, build_grid, calendar_months
from ledger.schedule import build_schedule

__all__ = ["Plan", "Viability", "balloon_plans", "evaluate", "minimum_capital"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Viability:
    """An activity's economics over a horizon, against the capital the family will have."""

    flows: ActivityFlows
    capital: Decimal
    minimum_capital: Decimal
    capital_sufficient: bool
    monthly_profit: Decimal
    return_on_capital: Decimal
    payback_month: int | None
    break_even_price: Decimal
    viable: bool
    warnings: tuple[str, ...]


def minimum_capital(flows: ActivityFlows) -> Decimal:
    """The outlay plus the deepest dip of cumulative monthly cash before sales catch up."""
    running, deepest = _ZERO, _ZERO
    for value in flows.net:
        running += value
        deepest = min(deepest, running)
    return flows.outlay - deepest


def _payback(flows: ActivityFlows) -> int | None:
    running = -flows.outlay
    for k, value in enumerate(flows.net):
        running += value
        if running >= 0:
            return k + 1
    return None


def evaluate(
    activity: Activity,
    *,
    capital: Decimal,
    months: int = 12,
    calendar: tuple[int, ...] | None = None,
) -> Viability:
    """The activity's cash, capital need, return, payback and break-even for `capital` riel."""
    flows = activity_flows(activity, months, calendar)
    need = round_half_even(minimum_capital(flows), KHR)
    profit = round_half_even(activity.monthly_profit, KHR)
    enough = capital >= need
    ret = profit / need if need > 0 else _ZERO
    warnings: list[str] = []
    if not enough:
        warnings.append(
            f"{capital:,.0f} riel is too little to start: the activity needs {need:,.0f} riel "
            "before its first sale."
        )
    if profit <= 0:
        warnings.append("At these prices a cycle does not pay its costs.")
    if not flows.sale_months:
        warnings.append(f"No sale falls within {months} months.")
    return Viability(
        flows=flows,
        capital=capital,
        minimum_capital=need,
        capital_sufficient=enough,
        monthly_profit=profit,
        return_on_capital=ret,
        payback_month=_payback(flows),
        break_even_price=round_half_even(activity.break_even_price, KHR),
        viable=enough and profit > 0,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """A loan schedule set against the family's grid."""

    label: str
    schedule: Schedule
    grid: Grid
    capacity: Capacity

    @property
    def largest_installment(self) -> Decimal:
        """The biggest single payment the family must make."""
        return max(inst.total for inst in self.schedule.installments)


def activity_grid(
    household: Household, activity: Activity | None, schedule: Schedule | None, months: int
) -> Grid:
    """The household's grid with the activity's cash and the loan's installments in it.

    The loan pays the activity's outlay; what is left of the principal joins the family's
    opening cash (a principal below the outlay takes the difference from that cash).
    """
    if activity is None:
        return build_grid(household, months=months, loan=schedule)
    flows = activity_flows(activity, months, calendar_months(household.start, months))
    if schedule is not None:
        left = schedule.terms.principal - flows.outlay
        household = replace(household, opening_cash=household.opening_cash + left)
    return build_grid(
        household,
        months=months,
        activity_revenue=flows.revenue,
        activity_costs=flows.costs,
        loan=schedule,
    )


def balloon_plans(
    household: Household,
    activity: Activity,
    *,
    principal: Decimal,
    months: int,
    product: FoundationProduct | None = None,
) -> tuple[Plan, Plan]:
    """Equal monthly installments over `months` against one balloon in the first sale month.

    The balloon loan runs to the first sale month with grace on principal and interest, so the
    engine puts everything (principal plus the interest of every month) in that installment.
    Raises ValueError when the activity sells nothing within `months`.
    """
    product = product or FoundationProduct()
    cal = calendar_months(household.start, months)
    sales = activity_flows(activity, months, cal).sale_months
    if not sales:
        raise ValueError(f"the activity sells nothing within {months} months: no balloon month")
    plans = []
    for label, term, balloon in (("monthly", months, False), ("balloon", sales[0], True)):
        schedule = build_schedule(product.terms(principal, term, household.start, balloon=balloon))
        grid = activity_grid(household, activity, schedule, months)
        plans.append(
            Plan(label, schedule, grid, assess(grid, product=product, start=household.start))
        )
    return plans[0], plans[1]
