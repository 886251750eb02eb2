"""Follow-up visits to trained people: what they do, what they earn, what food and housing cost.

Visits are append-only facts. A visit recorded wrongly is corrected by a new visit naming it in
`corrects`; reports then ignore the corrected one. Amounts are kept in riel; a visit entered in
dollars also keeps the dollars, the riel-per-dollar rate used and its date, and the riel
equivalent is exact: dollars × rate rounded to whole riel HALF_EVEN (`RIEL_ROUNDING`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import VISIT_ACTIVITIES, FollowUpVisit
from ledger.money import KHR, Money
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.training import get_enrollment, refuse_problems
from ledger.services.unit import transactional, use_case

__all__ = [
    "BUSINESS_STATUSES",
    "RIEL_ROUNDING",
    "VisitInput",
    "record_follow_up",
    "riel_equivalent",
    "visit_problems",
]

# How a dollar amount becomes whole riel: banker's rounding, as everywhere in the ledger.
RIEL_ROUNDING = ROUND_HALF_EVEN
BUSINESS_STATUSES = ("none", "starting", "running", "growing", "struggling", "closed")


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


@transactional
def record_follow_up(session: Session, *, actor: Actor, data: VisitInput,
                     today: date) -> FollowUpVisit:
    """Record a follow-up visit (or the correction of an earlier one) with riel amounts."""
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
    return visit
