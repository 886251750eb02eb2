"""The household cash-flow grid: incomes, living expenses and debt service, month by month.

Inputs are plain frozen records that a service fills from the database (a family's declared
incomes and expenses, its informal debts, its other loans); `build_grid` turns them into a
`Grid` of riel amounts for a horizon of N months (12, or the loan's term).

Conventions:
- Month 1 is the first month after the loan would be disbursed on `Household.start`; the
  k-th monthly installment of a loan disbursed that day falls in month k. A month's calendar
  name is that of `start` plus k months (a loan disbursed in January repays first in February).
- Every amount in the grid is riel. A dollar line is converted at the household's stated rate
  (`usd_rate`, riel per dollar) month by month, HALF_EVEN to whole riel.
- "Net income" is income minus business costs minus living expenses, before any debt service;
  the surplus is net income minus existing debt service minus the new loan's installments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledger.loan_terms import Schedule
from ledger.money import KHR, USD, Currency, MoneyError, round_half_even

__all__ = [
    "CashLine",
    "DebtService",
    "ExpenseKind",
    "Grid",
    "Household",
    "IncomeSource",
    "build_grid",
    "calendar_months",
    "informal_debt_service",
    "schedule_payments",
    "to_riel",
]

_ZERO = Decimal(0)


class IncomeSource(StrEnum):
    """Where a household's money comes from."""

    WAGE = "wage"
    ACTIVITY = "activity"
    FARMING = "farming"
    REMITTANCE = "remittance"
    OTHER = "other"


class ExpenseKind(StrEnum):
    """What a household spends its money on (living expenses, not business costs)."""

    FOOD = "food"
    HOUSING = "housing"
    HEALTH = "health"
    SCHOOLING = "schooling"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class CashLine:
    """One income or expense line: `category` is an IncomeSource or an ExpenseKind.

    `amounts` repeat month after month: one amount means the same every month; several mean a
    pattern repeated from month 1. With `seasonal=True` there are exactly twelve amounts,
    January to December, picked by each month's calendar name (farming by season).
    """

    category: IncomeSource | ExpenseKind
    amounts: tuple[Decimal, ...]
    currency: Currency = KHR
    label: str = ""
    seasonal: bool = False

    def __post_init__(self) -> None:
        if not self.amounts:
            raise MoneyError(f"{self.category}: a cash line needs at least one amount")
        if self.seasonal and len(self.amounts) != 12:
            raise MoneyError(f"{self.category}: a seasonal line needs twelve monthly amounts")
        for value in self.amounts:
            if isinstance(value, float) or not isinstance(value, Decimal):
                raise TypeError("cash-line amounts must be Decimal, never float")
            if value < 0:
                raise MoneyError(f"{self.category}: amounts cannot be negative")

    def amount(self, month: int, calendar_month: int) -> Decimal:
        """The line's amount (in its own currency) in grid month `month` (1-based)."""
        if self.seasonal:
            return self.amounts[calendar_month - 1]
        return self.amounts[(month - 1) % len(self.amounts)]


@dataclass(frozen=True, slots=True)
class DebtService:
    """Payments on an existing debt, in riel: `payments[k]` falls in month k + 1.

    With `repeat=True` the payments repeat for the whole horizon (a moneylender's monthly
    interest); otherwise the debt ends after the last payment.
    """

    label: str
    payments: tuple[Decimal, ...]
    repeat: bool = False

    def payment(self, month: int) -> Decimal:
        """The payment due in grid month `month` (1-based)."""
        if self.repeat:
            return self.payments[(month - 1) % len(self.payments)]
        return self.payments[month - 1] if month <= len(self.payments) else _ZERO


@dataclass(frozen=True, slots=True)
class Household:
    """A family's declared cash flows. `usd_rate` is riel per dollar for any dollar lines.

    `opening_cash` is what the family has saved when the loan starts; it carries from month to
    month with any surplus when installments are checked (see `capacity.repayment_path`).
    """

    incomes: tuple[CashLine, ...] = ()
    expenses: tuple[CashLine, ...] = ()
    debts: tuple[DebtService, ...] = ()
    start: date = date(2026, 1, 1)
    usd_rate: Decimal = Decimal(4100)
    opening_cash: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class Grid:
    """A household's months in riel; every tuple has one entry per month (index 0 = month 1).

    `incomes`/`expenses` keep the detail by category; `activity_costs` are the financed
    activity's running and restocking costs; `loan` the new loan's installments.
    """

    months: int
    calendar: tuple[int, ...]
    incomes: tuple[tuple[IncomeSource, tuple[Decimal, ...]], ...]
    expenses: tuple[tuple[ExpenseKind, tuple[Decimal, ...]], ...]
    activity_costs: tuple[Decimal, ...]
    debt_service: tuple[Decimal, ...]
    loan: tuple[Decimal, ...]
    opening_cash: Decimal = _ZERO
    income: tuple[Decimal, ...] = field(init=False)
    expense: tuple[Decimal, ...] = field(init=False)
    net_income: tuple[Decimal, ...] = field(init=False)
    surplus: tuple[Decimal, ...] = field(init=False)

    def __post_init__(self) -> None:
        def column_sum(rows: Sequence[tuple[Decimal, ...]], k: int) -> Decimal:
            return sum((row[k] for row in rows), _ZERO)

        span = range(self.months)
        income = tuple(column_sum([r for _, r in self.incomes], k) for k in span)
        expense = tuple(column_sum([r for _, r in self.expenses], k) for k in span)
        net = tuple(income[k] - expense[k] - self.activity_costs[k] for k in span)
        surplus = tuple(net[k] - self.debt_service[k] - self.loan[k] for k in span)
        object.__setattr__(self, "income", income)
        object.__setattr__(self, "expense", expense)
        object.__setattr__(self, "net_income", net)
        object.__setattr__(self, "surplus", surplus)

    def income_from(self, source: IncomeSource) -> tuple[Decimal, ...]:
        """The months' income from one source (zeros when the family has none)."""
        for category, row in self.incomes:
            if category == source:
                return row
        return tuple(_ZERO for _ in range(self.months))


def to_riel(amount: Decimal, currency: Currency, usd_rate: Decimal) -> Decimal:
    """An amount in riel: dollars times the stated rate, HALF_EVEN to whole riel."""
    if currency == KHR:
        return amount
    if currency == USD:
        return round_half_even(amount * usd_rate, KHR)
    raise MoneyError(f"cannot convert {currency.code} to riel: only KHR and USD are known")


def calendar_months(start: date, months: int) -> tuple[int, ...]:
    """The calendar month (1–12) of each grid month: `start`'s month plus 1, 2, … N."""
    return tuple((start.month - 1 + k) % 12 + 1 for k in range(1, months + 1))


def informal_debt_service(
    label: str, outstanding: Decimal, monthly_rate_pct: Decimal
) -> DebtService:
    """A moneylender's debt as families carry it: monthly interest, principal rolled over.

    Interest-only is the usual informal form; the interest is rounded HALF_EVEN to riel.
    """
    interest = round_half_even(outstanding * monthly_rate_pct / 100, KHR)
    return DebtService(label=label, payments=(interest,), repeat=True)


def schedule_payments(schedule: Schedule, start: date, months: int) -> tuple[Decimal, ...]:
    """A riel loan's installments placed in grid months by their due dates (weekly ones add up).

    A due date in the k-th calendar month after `start` falls in month k; anything due outside
    months 1..N is left out of the grid.
    """
    if schedule.currency != KHR:
        raise MoneyError("projections are in riel: convert the loan before placing it")
    out = [_ZERO] * months
    for inst in schedule.installments:
        k = (inst.due_date.year - start.year) * 12 + inst.due_date.month - start.month
        if 1 <= k <= months:
            out[k - 1] += inst.total
    return tuple(out)


def _line_rows(
    lines: Sequence[CashLine], household: Household, cal: tuple[int, ...]
) -> dict[str, list[Decimal]]:
    rows: dict[str, list[Decimal]] = {}
    for line in lines:
        row = rows.setdefault(line.category.value, [_ZERO] * len(cal))
        for k, month_name in enumerate(cal):
            raw = line.amount(k + 1, month_name)
            row[k] += to_riel(raw, line.currency, household.usd_rate)
    return rows


def build_grid(
    household: Household,
    *,
    months: int = 12,
    activity_revenue: Sequence[Decimal] | None = None,
    activity_costs: Sequence[Decimal] | None = None,
    loan: Schedule | None = None,
) -> Grid:
    """The household's grid over `months`, with an optional financed activity and new loan.

    The activity's revenue joins the incomes under `activity`; its costs are kept apart from
    living expenses. The activity's start-up outlay is paid from the loan, so it is not a month.
    """
    if months < 1:
        raise ValueError("a grid needs at least one month")
    cal = calendar_months(household.start, months)
    incomes = _line_rows(household.incomes, household, cal)
    if activity_revenue is not None:
        row = incomes.setdefault(IncomeSource.ACTIVITY.value, [_ZERO] * months)
        for k in range(months):
            row[k] += activity_revenue[k] if k < len(activity_revenue) else _ZERO
    expenses = _line_rows(household.expenses, household, cal)
    costs = tuple(
        activity_costs[k] if activity_costs is not None and k < len(activity_costs) else _ZERO
        for k in range(months)
    )
    debt = tuple(sum((d.payment(k + 1) for d in household.debts), _ZERO) for k in range(months))
    payments = schedule_payments(loan, household.start, months) if loan else (_ZERO,) * months
    return Grid(
        months=months,
        calendar=cal,
        incomes=tuple((s, tuple(incomes[s.value])) for s in IncomeSource if s.value in incomes),
        expenses=tuple((e, tuple(expenses[e.value])) for e in ExpenseKind if e.value in expenses),
        activity_costs=costs,
        debt_service=debt,
        loan=payments,
        opening_cash=household.opening_cash,
    )
