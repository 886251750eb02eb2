"""What the projection screen reads and computes: a family's stored grid (or, when it has none,
the figures of its last follow-up visit to start one), its debts and the Foundation product;
the grid and the proposed loan as typed, checked field by field; and the projection of the
typed grid through `ledger.services.projections.project_household`. Nothing here draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.db.tables import core_table
from ledger.money import KHR, Money, MoneyError
from ledger.projection import (
    ActivityKind,
    CashLine,
    DebtService,
    FoundationProduct,
    Household,
    IncomeSource,
)
from ledger.services.households import (
    DEFAULT_USD_RATE,
    FamilyRef,
    StoredGrid,
    family_debts,
    grid_problems,
    latest_grid,
    visible_family,
)
from ledger.services.projections import MAX_MONTHS, HouseholdProjection, ledger_product
from ledger.services.projections import project_household as project
from ledger.services.training_followups import visit_lines

__all__ = ["Debts", "Draft", "FamilyGrid", "Parsed", "parse_draft", "project_draft",
           "read_family_grid"]

# A family's debt service and what was assumed, as `family_debts` gives them.
Debts = tuple[tuple[DebtService, ...], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class FamilyGrid:
    """A family as the projection screen opens it. `start` is the stored grid's lines, or the
    last visit's figures (see `visit_lines`) when no grid is stored; `debts` were converted at
    `debt_rate` (riel per dollar, None: the default)."""

    family: FamilyRef
    stored: StoredGrid | None
    start: tuple[CashLine, ...]
    origin: str
    debts: Debts
    debt_rate: Decimal | None
    product: FoundationProduct
    limits: tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Draft:
    """The grid's lines and every field of the screen, as typed."""

    lines: tuple[CashLine, ...]
    usd_rate: str = ""
    rate_on: str = ""
    savings: str = "0"
    amount: str = ""
    months: str = "10"
    activity: str = ""

    def grid_part(self) -> tuple[object, ...]:
        """What saving would record: a draft differing here has unsaved edits."""
        return (self.lines, self.usd_rate.strip(), self.rate_on.strip(),
                self.savings.strip() or "0")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A draft whose grid fields read. `save_problems` stop it from being recorded; a loan
    amount or term that does not read (`projectable` False) stops only the projection."""

    lines: tuple[CashLine, ...]
    usd_rate: Decimal | None
    rate_on: date | None
    savings: Decimal
    amount: Decimal | None
    months: int
    activity: str | None
    save_problems: tuple[str, ...]
    projectable: bool


def _last_visit(session: Session, family_id: int) -> tuple[date, list[CashLine]] | None:
    enr, visit = core_table("enrollment"), core_table("follow_up_visit")
    row = session.execute(
        sa.select(visit.c.visited_on, visit.c.activity, visit.c.activity_detail,
                  visit.c.income_minor, visit.c.costs_minor)
        .join(enr, enr.c.id == visit.c.enrollment_id).where(enr.c.family_id == family_id)
        .order_by(visit.c.visited_on.desc(), visit.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    lines = visit_lines((), activity=row[1], detail=row[2],
                        income=Money.from_minor(int(row[3]), KHR),
                        costs=Money.from_minor(int(row[4]), KHR))
    return row[0], list(lines)


def read_family_grid(session: Session, *, actor: Actor, family_id: int,
                     as_of: date) -> FamilyGrid:
    """Everything the screen needs to open `family_id` (NotFound if the actor may not)."""
    family = visible_family(session, actor=actor, family_id=family_id)
    stored = latest_grid(session, actor=actor, family_id=family_id, as_of=as_of)
    if stored is not None:
        start = (*stored.incomes, *stored.expenses)
        follow = f", from follow-up visit {stored.follow_up_id}" if stored.follow_up_id else ""
        origin = f"grid of {stored.recorded_on} by {stored.recorded_by}{follow}"
    elif (visit := _last_visit(session, family_id)) is not None:
        start, origin = tuple(visit[1]), (f"no grid recorded yet: the follow-up visit of "
                                          f"{visit[0]} is filled in; ctrl+s records it")
    else:
        start, origin = (), "no grid recorded yet: add lines with a, then ctrl+s records it"
    rate = stored.usd_rate if stored is not None else None
    debts = family_debts(session, actor=actor, family_id=family_id, as_of=as_of, usd_rate=rate)
    product, limits = ledger_product(session)
    return FamilyGrid(family, stored, start, origin, debts, rate, product, limits)


def _decimal(text: str, field: str, problems: dict[str, str]) -> Decimal | None:
    try:
        value = Money.parse(text, KHR).amount
    except (MoneyError, TypeError, ValueError) as exc:
        problems[field] = str(exc)
        return None
    if value <= 0:
        problems[field] = "must be more than zero"
        return None
    return value


def _rate(text: str, problems: dict[str, str]) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except ArithmeticError:
        problems["usd_rate"] = "write riel per dollar, e.g. 4100"
        return None
    if not value.is_finite() or value <= 0:
        problems["usd_rate"] = "must be more than zero"
        return None
    return value


def parse_draft(draft: Draft, *, today: date) -> tuple[Parsed | None, dict[str, str]]:
    """The draft read field by field, and the problem of each field that does not read or
    stops the grid from being recorded (keyed by field name; `lines` for the grid as a whole).
    None when a grid field (rate, its date, savings) does not read."""
    problems: dict[str, str] = {}
    rate = _rate(draft.usd_rate, problems) if draft.usd_rate.strip() else None
    rate_on = None
    if draft.rate_on.strip():
        try:
            rate_on = date.fromisoformat(draft.rate_on.strip())
        except ValueError:
            problems["rate_on"] = "write the date as YYYY-MM-DD"
    savings = Decimal(0)
    if draft.savings.strip():
        try:
            savings = Money.parse(draft.savings, KHR).amount
        except (MoneyError, TypeError, ValueError) as exc:
            problems["savings"] = str(exc)
    if problems:
        return None, problems
    amount = _decimal(draft.amount, "amount", problems) if draft.amount.strip() else None
    months = 0
    if not draft.months.strip().isdigit() or not 1 <= int(draft.months) <= MAX_MONTHS:
        problems["months"] = f"a whole number of months, 1 to {MAX_MONTHS}"
    else:
        months = int(draft.months)
    projectable = not problems
    found = grid_problems(draft.lines, usd_rate=rate, rate_on=rate_on, recorded_on=today,
                          savings=savings)
    for field, why in found:  # the grid-wide problems show by their field too
        problems.setdefault(field.split("[")[0], why)
    return Parsed(draft.lines, rate, rate_on, savings, amount, months, draft.activity or None,
                  tuple(why for _, why in found), projectable), problems


def project_draft(grid: FamilyGrid, parsed: Parsed, debts: Debts, *,
                  as_of: date) -> HouseholdProjection:
    """The typed grid with the proposed loan and `debts` (read at the typed rate), the Monte
    Carlo left to `simulate_projection`."""
    rate = DEFAULT_USD_RATE if parsed.usd_rate is None else parsed.usd_rate
    notes = () if parsed.usd_rate is not None or not any(
        x.currency != KHR for x in parsed.lines) else (
        f"No dollar rate typed: {DEFAULT_USD_RATE} riel per dollar is assumed.",)
    household = Household(
        incomes=tuple(x for x in parsed.lines if isinstance(x.category, IncomeSource)),
        expenses=tuple(x for x in parsed.lines if not isinstance(x.category, IncomeSource)),
        debts=debts[0], start=as_of, usd_rate=rate, opening_cash=parsed.savings)
    return project(household, product=grid.product, limits=grid.limits,
                   activity=parsed.activity, amount=parsed.amount, months=parsed.months,
                   scenarios=0, warnings=(*notes, *debts[1]))


# The screen's own inputs beside the grid, and the activities a loan may finance.
FIELDS = (("usd_rate", "Riel per dollar"), ("rate_on", "Rate dated"), ("savings", "Savings"),
          ("amount", "Loan (riel)"), ("months", "Months"))
ACTIVITIES = (("no financed activity", "none"), *((k.value, k.value) for k in ActivityKind))
