"""The new-loan preview, computed before anything is saved: the schedule from the one schedule
engine, APR/EIR and compliance warnings, the informal-lender comparison and the family's
repayment capacity. Pure: the product and the household come in, nothing is read or written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import LoanProduct, core_table
from ledger.disclosure import Disclosure, InformalOffer, compare_informal, disclose
from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
    Schedule,
    TermsError,
)
from ledger.money import KHR, Money, get_currency
from ledger.projection import (
    Capacity,
    CashLine,
    ExpenseKind,
    Household,
    IncomeSource,
    assess,
    build_grid,
    informal_debt_service,
)
from ledger.schedule import build_schedule
from ledger.services.products import terms_problems

__all__ = ["Household0", "LoanOffer", "OfferInput", "household_defaults", "make_offer"]


@dataclass(frozen=True, slots=True)
class OfferInput:
    """The form's texts, as typed."""

    principal: str
    repayments: str
    applied_on: str
    first_due_on: str
    grace_principal: str
    income: str
    costs: str


@dataclass(frozen=True, slots=True)
class Household0:
    """What the ledger knows of the household: informal debts and the last visit's figures."""

    debts: tuple[tuple[str, Decimal, Decimal], ...]
    income: Money | None
    costs: Money | None


@dataclass(frozen=True, slots=True)
class LoanOffer:
    """Everything the officer and the family see before the application is saved."""

    terms: LoanTerms
    schedule: Schedule
    disclosure: Disclosure
    informal: tuple[InformalOffer, ...]
    capacity: Capacity | None


def household_defaults(session: Session, family_id: int) -> Household0:
    """The family's informal debts (with a rate) and the income and costs of its last
    follow-up visit, if any."""
    debt = core_table("informal_debt")
    debts = tuple(
        (kind, Money.from_minor(int(minor), cur).amount, Decimal(rate))
        for kind, minor, cur, rate in session.execute(
            sa.select(debt.c.lender_kind, debt.c.outstanding_minor, debt.c.currency,
                      debt.c.monthly_rate_pct)
            .where(debt.c.family_id == family_id, debt.c.monthly_rate_pct.is_not(None))).all()
        if cur == "KHR")
    income = costs = None
    try:
        enr, visit = core_table("enrollment"), core_table("follow_up_visit")
    except KeyError:  # a ledger package without training
        return Household0(debts, None, None)
    last = session.execute(
        sa.select(visit.c.income_minor, visit.c.costs_minor).join(
            enr, enr.c.id == visit.c.enrollment_id).where(enr.c.family_id == family_id)
        .order_by(visit.c.visited_on.desc(), visit.c.id.desc()).limit(1)).first()
    if last is not None:
        income = Money.from_minor(int(last[0]), KHR)
        costs = Money.from_minor(int(last[1]), KHR)
    return Household0(debts, income, costs)


def _int(text: str, field: str, problems: dict[str, str]) -> int:
    if not text.strip().isdigit():
        problems[field] = "type a whole number"
        return 0
    return int(text)


def _day(text: str, field: str, problems: dict[str, str], *, optional: bool = False) -> date | None:
    if optional and not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        problems[field] = "write the date as YYYY-MM-DD"
        return None


def _money(text: str, field: str, problems: dict[str, str], *, optional: bool = False
           ) -> Money | None:
    if optional and not text.strip():
        return None
    try:
        return Money.parse(text, "KHR")
    except (ValueError, TypeError) as exc:
        problems[field] = str(exc) if text.strip() else "type an amount"
        return None


def make_offer(product: LoanProduct, household: Household0, form: OfferInput, *,
               today: date, registered_on: date) -> tuple[LoanOffer | None, dict[str, str]]:
    """The preview for what is typed, or the problem of every field that does not read or
    breaks the product's limits (keyed by field name)."""
    problems: dict[str, str] = {}
    principal = _money(form.principal, "principal", problems)
    repayments = _int(form.repayments, "repayments", problems)
    applied = _day(form.applied_on, "applied_on", problems)
    first_due = _day(form.first_due_on, "first_due_on", problems, optional=True)
    grace = _int(form.grace_principal or "0", "grace_principal", problems)
    income = _money(form.income, "income", problems, optional=True)
    costs = _money(form.costs, "costs", problems, optional=True)
    if applied is not None and applied > today:
        problems["applied_on"] = f"{applied} is in the future"
    if applied is not None and applied < registered_on:
        problems["applied_on"] = f"the family registered only on {registered_on}"
    if problems or principal is None or applied is None:
        return None, problems
    cur = get_currency(product.currency)
    try:
        terms = LoanTerms(
            principal=principal.amount, currency=cur, rate=product.rate,
            rate_period=RatePeriod(product.rate_period), method=InterestMethod(product.method),
            amortization=Amortization(product.amortization), repayments=repayments,
            disbursed_on=applied, unit=FrequencyUnit.MONTH, first_due_on=first_due,
            multiple=(Money.from_minor(product.multiple_minor, cur).amount
                      if product.multiple_minor else None),
            grace_principal=grace)
    except TermsError as exc:
        return None, {f: why for f, why in exc.problems}
    for f, why in terms_problems(product, terms):
        problems[f] = why
    if problems:
        return None, problems
    schedule = build_schedule(terms)
    capacity = None
    if income is not None and costs is not None:
        home = Household(
            incomes=(CashLine(IncomeSource.OTHER, (income.amount,)),),
            expenses=(CashLine(ExpenseKind.OTHER, (costs.amount,)),),
            debts=tuple(informal_debt_service(k, owed, rate) for k, owed, rate in household.debts),
            start=applied)
        grid = build_grid(home, months=repayments, loan=schedule)
        capacity = assess(grid, term=repayments, start=applied)
    return LoanOffer(terms, schedule, disclose(schedule), compare_informal(schedule),
                     capacity), {}
