"""Follow-up visits to trained people: what they do, what they earn, what food and housing cost.

Visits are append-only facts. A visit recorded wrongly is corrected by a new visit naming it in
`corrects`; reports then ignore the corrected one. Amounts are kept in riel; a visit entered in
dollars also keeps the dollars, the riel-per-dollar rate used and its date, and the riel
equivalent is exact: dollars × rate rounded to whole riel HALF_EVEN (`RIEL_ROUNDING`).

A visit also updates the family's cash-flow grid, in the same transaction: a new snapshot dated
the day of the visit and linked to it (`household_grid.follow_up_id`), made by `visit_lines`
from the family's grid as of that day (or from nothing, when it has none yet). The visit's
income replaces the grid's `activity` income lines — it is the income of the trained activity,
whether the person is self-employed or employed (0 when not working) — and its food and
housing costs replace the `food` and `housing` lines, as one `food` line labelled
`FOOD_AND_HOUSING` (the visit records them together). Every other line, the savings and, for a
visit in riel, the grid's dollar rate are carried over; a visit in dollars keeps its amounts in
dollars and its rate becomes the grid's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import VISIT_ACTIVITIES, FollowUpVisit
from ledger.money import KHR, Money
from ledger.projection.cashflow import CashLine, ExpenseKind, IncomeSource
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.households import latest_grid, record_household_grid
from ledger.services.training import get_enrollment, refuse_problems
from ledger.services.unit import transactional, use_case

__all__ = [
    "BUSINESS_STATUSES",
    "FOOD_AND_HOUSING",
    "RIEL_ROUNDING",
    "VisitInput",
    "record_follow_up",
    "riel_equivalent",
    "visit_lines",
    "visit_problems",
]

# How a dollar amount becomes whole riel: banker's rounding, as everywhere in the ledger.
RIEL_ROUNDING = ROUND_HALF_EVEN
BUSINESS_STATUSES = ("none", "starting", "running", "growing", "struggling", "closed")
FOOD_AND_HOUSING = "food and housing"


def riel_equivalent(amount: Money, rate: Decimal | None) -> Money:
    """`amount` in whole riel: riel as it is; dollars × `rate` (riel per dollar), rounded
    HALF_EVEN to the riel."""
    if amount.currency == KHR:
        return amount
    if rate is None:
        raise ValueError(f"{amount.currency.code} needs a riel rate")
    return Money((amount.amount * rate).quantize(Decimal(1), rounding=RIEL_ROUNDING), KHR)


@dataclass(frozen=True, slots=True)
class VisitInput:
    """One follow-up visit as the officer writes it down. `income` and `costs` (food and
    housing) are monthly and in the same currency; dollars need `rate` and `rate_on`."""

    enrollment_id: int
    visited_on: date
    officer: str
    activity: str
    income: Money
    costs: Money
    activity_detail: str = ""
    rate: Decimal | None = None
    rate_on: date | None = None
    business_status: str | None = None
    notes: str = ""
    corrects: int | None = None


def visit_problems(data: VisitInput, *, today: date) -> list[tuple[str, str]]:
    """Every (field, reason) that stops this visit from being recorded."""
    out: list[tuple[str, str]] = []
    if data.visited_on > today:
        out.append(("visited_on", f"{data.visited_on} is in the future"))
    if not data.officer.strip():
        out.append(("officer", "is empty"))
    if data.activity not in VISIT_ACTIVITIES:
        out.append(("activity", f"{data.activity!r} is not one of {', '.join(VISIT_ACTIVITIES)}"))
    elif data.activity != "not-working" and not data.activity_detail.strip():
        what = "where" if data.activity == "employed" else "in what"
        out.append(("activity_detail", f"say {what} the person is {data.activity}"))
    if data.income.amount < 0:
        out.append(("income", "cannot be negative"))
    if data.costs.amount < 0:
        out.append(("costs", "cannot be negative"))
    if data.income.currency != data.costs.currency:
        out.append(("costs", "must be in the same currency as the income"))
    if data.income.currency == KHR:
        if data.rate is not None or data.rate_on is not None:
            out.append(("rate", "amounts in riel take no exchange rate"))
    else:
        if data.rate is None or data.rate <= 0:
            out.append(("rate", f"amounts in {data.income.currency.code} need the riel rate used"))
        if data.rate_on is None:
            out.append(("rate_on", "give the date of the exchange rate used"))
        elif data.rate_on > data.visited_on:
            out.append(("rate_on", f"{data.rate_on} is after the visit ({data.visited_on})"))
    if data.business_status is not None and data.business_status not in BUSINESS_STATUSES:
        out.append(("business_status",
                    f"{data.business_status!r} is not one of {', '.join(BUSINESS_STATUSES)}"))
    return out


def _check_correction(session: Session, data: VisitInput) -> None:
    if data.corrects is None:
        return
    earlier = session.get(FollowUpVisit, data.corrects)
    if earlier is None or earlier.enrollment_id != data.enrollment_id:
        raise NotFound(f"visit id {data.corrects} is not a visit of enrollment "
                       f"{data.enrollment_id}", field="corrects")
    already = session.execute(sa.select(col(FollowUpVisit.id)).where(
        col(FollowUpVisit.corrects_id) == data.corrects)).scalar()
    if already is not None:
        raise Conflict(f"visit {data.corrects} was already corrected by visit {already}; "
                       "correct that one", field="corrects")


def visit_lines(base: Sequence[CashLine], *, activity: str, detail: str, income: Money,
                costs: Money) -> tuple[CashLine, ...]:
    """The grid lines a visit leaves (see the module notes): `base` with its activity incomes
    replaced by the visit's income and its food and housing by the visit's costs, incomes
    first, each replacement where the first line it replaces stood."""
    what = "not working" if activity == "not-working" else f"{activity}: {detail.strip()}"
    earned = CashLine(IncomeSource.ACTIVITY, (income.amount,), income.currency, what)
    spent = CashLine(ExpenseKind.FOOD, (costs.amount,), costs.currency, FOOD_AND_HOUSING)
    incomes: list[CashLine] = []
    expenses: list[CashLine] = []
    placed_income = placed_costs = False
    for line in base:
        if line.category is IncomeSource.ACTIVITY:
            if not placed_income:
                incomes.append(earned)
                placed_income = True
        elif line.category is ExpenseKind.FOOD or line.category is ExpenseKind.HOUSING:
            if not placed_costs:
                expenses.append(spent)
                placed_costs = True
        elif isinstance(line.category, IncomeSource):
            incomes.append(line)
        else:
            expenses.append(line)
    if not placed_income:
        incomes.append(earned)
    if not placed_costs:
        expenses.append(spent)
    return (*incomes, *expenses)


def _update_grid(session: Session, *, actor: Actor, family_id: int, visit_id: int,
                 data: VisitInput, today: date) -> None:
    """Record the snapshot the visit leaves (see the module notes)."""
    base = latest_grid(session, actor=actor, family_id=family_id, as_of=data.visited_on)
    lines = visit_lines(() if base is None else (*base.incomes, *base.expenses),
                        activity=data.activity, detail=data.activity_detail,
                        income=data.income, costs=data.costs)
    if data.income.currency != KHR:
        rate, rate_on = data.rate, data.rate_on
    else:
        rate, rate_on = (None, None) if base is None else (base.usd_rate, base.rate_on)
    record_household_grid(
        session, actor=actor, family_id=family_id, lines=lines, recorded_on=data.visited_on,
        usd_rate=rate, rate_on=rate_on, follow_up_id=visit_id,
        savings=Decimal(0) if base is None else base.savings, today=today,
        note=f"follow-up visit {visit_id}" + ("" if base is None else f", from grid {base.id}"))


@transactional
def record_follow_up(session: Session, *, actor: Actor, data: VisitInput,
                     today: date) -> FollowUpVisit:
    """Record a follow-up visit (or the correction of an earlier one) with riel amounts, and
    the family's grid as the visit leaves it, in one transaction."""
    actor.require(Permission.ENTER_TRAININGS)
    refuse_problems(visit_problems(data, today=today))
    enrollment = get_enrollment(session, data.enrollment_id)
    if data.visited_on < enrollment.enrolled_on:
        raise ServiceError(f"{data.visited_on} is before the enrollment "
                           f"({enrollment.enrolled_on})", field="visited_on")
    _check_correction(session, data)
    income = riel_equivalent(data.income, data.rate)
    costs = riel_equivalent(data.costs, data.rate)
    with use_case(session):
        visit = FollowUpVisit(
            enrollment_id=data.enrollment_id, visited_on=data.visited_on,
            officer=data.officer.strip(), activity=data.activity,
            activity_detail=data.activity_detail.strip(), income_minor=income.minor,
            costs_minor=costs.minor, entered_currency=data.income.currency.code,
            entered_income_minor=data.income.minor, entered_costs_minor=data.costs.minor,
            rate=data.rate, rate_on=data.rate_on, business_status=data.business_status,
            notes=data.notes, corrects_id=data.corrects, recorded_by=actor.name)
        session.add(visit)
        session.flush()
        assert visit.id is not None
        _update_grid(session, actor=actor, family_id=enrollment.family_id, visit_id=visit.id,
                     data=data, today=today)
    return visit
