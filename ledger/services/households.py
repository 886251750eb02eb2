"""Household cash-flow grids: record a family's snapshot, read it back, and build the
`Household` the projections take — its declared lines plus the debts the ledger knows about.

- Recording needs `Permission.ENTER_FAMILIES` (a grid is a fact about the family; officers, who
  also record follow-up visits, hold it). Reading needs `Permission.READ`, and a treasurer sees
  only the families of her villages: anyone else's family is NotFound, as in family reports.
- Snapshots are append-only. The family's grid "as of" a day is its latest snapshot recorded on
  or before that day (greatest `recorded_on`, then greatest id).
- Debt service in the `Household`: each informal debt as a moneylender carries it (monthly
  interest on the outstanding amount, rolled over; a debt with no rate recorded adds nothing
  and is named in `warnings`), and every Foundation loan in force on the day, as the unpaid
  part of each installment in the month it falls due (anything overdue falls in month 1).
  Dollar amounts become riel at the grid's rate, HALF_EVEN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import MONTH_COLUMNS, HouseholdGrid, HouseholdLine, Loan, core_table
from ledger.money import KHR, USD, Currency, Money, MoneyError, get_currency
from ledger.projection.cashflow import (
    CashLine,
    DebtService,
    ExpenseKind,
    Household,
    IncomeSource,
    informal_debt_service,
    to_riel,
)
from ledger.services.errors import NotFound, ServiceError
from ledger.services.loan_book import load_state
from ledger.services.unit import transactional, use_case

__all__ = [
    "DEFAULT_USD_RATE",
    "FamilyHousehold",
    "FamilyRef",
    "StoredGrid",
    "build_household",
    "family_by_ref",
    "family_debts",
    "follow_up_grid",
    "grid_history",
    "grid_problems",
    "latest_grid",
    "record_household_grid",
    "visible_family",
]

# Riel per dollar when a grid states no rate (the rate the research used); named in warnings.
DEFAULT_USD_RATE = Decimal(4100)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class FamilyRef:
    """Who a grid belongs to: the family's id, reference, head and village."""

    id: int
    ref: str
    head_name: str
    village_code: str | None
    village_name: str


@dataclass(frozen=True, slots=True)
class StoredGrid:
    """One recorded snapshot, its lines as the projections' `CashLine`s in entry order."""

    id: int
    family_id: int
    recorded_on: date
    recorded_by: str
    usd_rate: Decimal | None
    rate_on: date | None
    savings: Decimal
    follow_up_id: int | None
    note: str
    incomes: tuple[CashLine, ...]
    expenses: tuple[CashLine, ...]


@dataclass(frozen=True, slots=True)
class FamilyHousehold:
    """A family's `Household` on a day, the snapshot it came from, and what was assumed."""

    family: FamilyRef
    grid: StoredGrid
    household: Household
    warnings: tuple[str, ...]


def _kind(line: CashLine) -> str:
    return "income" if isinstance(line.category, IncomeSource) else "expense"


def grid_problems(lines: Sequence[CashLine], *, usd_rate: Decimal | None,
                  rate_on: date | None, recorded_on: date,
                  savings: Decimal = _ZERO) -> list[tuple[str, str]]:
    """Every (field, reason) that stops this grid from being recorded."""
    out: list[tuple[str, str]] = []
    if not lines:
        out.append(("lines", "a grid needs at least one income or expense line"))
    for n, line in enumerate(lines, start=1):
        name = f"{_kind(line)} {line.category.value}"
        if line.currency not in (KHR, USD):
            out.append((f"lines[{n}]", f"{name}: only riel and dollar amounts are kept"))
        if not line.seasonal and len(line.amounts) != 1:
            out.append((f"lines[{n}]", f"{name}: give one amount (every month) or twelve "
                        "(January to December)"))
        for value in line.amounts:
            try:
                Money(value, line.currency)
            except MoneyError as exc:
                out.append((f"lines[{n}]", f"{name}: {exc}"))
                break
    uses_usd = any(line.currency == USD for line in lines)
    if (usd_rate is None) != (rate_on is None):
        out.append(("usd_rate", "give both the riel-per-dollar rate and the date it is from"))
    elif usd_rate is not None and usd_rate <= 0:
        out.append(("usd_rate", "the riel-per-dollar rate must be more than zero"))
    elif uses_usd and usd_rate is None:
        out.append(("usd_rate", "dollar amounts need the riel-per-dollar rate and its date"))
    if rate_on is not None and rate_on > recorded_on:
        out.append(("rate_on", f"{rate_on} is after the grid's date ({recorded_on})"))
    if savings < 0:
        out.append(("savings", "cannot be negative"))
    return out


def _family_row(session: Session, family_id: int) -> FamilyRef | None:
    fam, vil = core_table("family"), core_table("village")
    row = session.execute(
        sa.select(fam.c.id, fam.c.ref, fam.c.head_name, vil.c.code, vil.c.name_en)
        .select_from(fam.join(vil, vil.c.id == fam.c.village_id))
        .where(fam.c.id == family_id)).first()
    return None if row is None else FamilyRef(int(row[0]), str(row[1]), str(row[2]),
                                              row[3], str(row[4]))


def visible_family(session: Session, *, actor: Actor, family_id: int) -> FamilyRef:
    """The family if the actor may see it; NotFound otherwise (treasurers: her villages)."""
    family = _family_row(session, family_id)
    if family is None or not actor.sees_village(family.village_code or ""):
        raise NotFound(f"family id {family_id} is not in this ledger", field="family")
    return family


def family_by_ref(session: Session, ref: str) -> int:
    """The id of the family with reference `ref`, or NotFound."""
    fam = core_table("family")
    found = session.execute(sa.select(fam.c.id).where(fam.c.ref == ref.strip())).scalar()
    if found is None:
        raise NotFound(f"{ref!r} is not a family in this ledger", field="family")
    return int(found)


def _check_follow_up(session: Session, family_id: int, follow_up_id: int) -> None:
    # The link is checked here rather than by a foreign key (see migration 0007).
    visit, enr = core_table("follow_up_visit"), core_table("enrollment")
    owner = session.execute(
        sa.select(enr.c.family_id).select_from(visit.join(enr, enr.c.id == visit.c.enrollment_id))
        .where(visit.c.id == follow_up_id)).scalar()
    if owner is None or int(owner) != family_id:
        raise NotFound(f"follow-up visit {follow_up_id} is not a visit of family id "
                       f"{family_id}", field="follow_up")


def _months(line: CashLine) -> list[int]:
    values = line.amounts if line.seasonal else line.amounts * 12
    return [Money(v, line.currency).minor for v in values]


@transactional
def record_household_grid(
    session: Session,
    *,
    actor: Actor,
    family_id: int,
    lines: Sequence[CashLine],
    recorded_on: date,
    usd_rate: Decimal | None = None,
    rate_on: date | None = None,
    follow_up_id: int | None = None,
    savings: Decimal = _ZERO,
    note: str = "",
    today: date | None = None,
) -> StoredGrid:
    """Record a new snapshot of the family's monthly incomes and expenses (append-only).

    Each line is one amount (every month) or twelve (seasonal, January to December) in riel or
    dollars; dollars need `usd_rate` (riel per dollar) and `rate_on`. `savings` is riel the
    family holds. A follow-up visit that updates the grid passes its id as `follow_up_id`.
    """
    actor.require(Permission.ENTER_FAMILIES, "recording a household's cash flows")
    visible_family(session, actor=actor, family_id=family_id)
    problems = grid_problems(lines, usd_rate=usd_rate, rate_on=rate_on,
                             recorded_on=recorded_on, savings=savings)
    if today is not None and recorded_on > today:
        problems.insert(0, ("recorded_on", f"{recorded_on} is in the future"))
    if problems:
        first, why = problems[0]
        more = "".join(f"; {f}: {w}" for f, w in problems[1:])
        raise ServiceError(why + more, field=first)
    if follow_up_id is not None:
        _check_follow_up(session, family_id, follow_up_id)
    with use_case(session):
        grid = HouseholdGrid(family_id=family_id, recorded_on=recorded_on, recorded_by=actor.name,
                             usd_rate=usd_rate, rate_on=rate_on,
                             savings_minor=Money(savings, KHR).minor,
                             follow_up_id=follow_up_id, note=note)
        session.add(grid)
        session.flush()
        assert grid.id is not None
        session.add_all([
            HouseholdLine(grid_id=grid.id, position=n, kind=_kind(line),
                          category=line.category.value, label=line.label,
                          currency=line.currency.code, seasonal=line.seasonal,
                          **dict(zip(MONTH_COLUMNS, _months(line), strict=True)))
            for n, line in enumerate(lines, start=1)])
        session.flush()
        stored = _load(session, [grid.id])
    return stored[0]


def _line(kind: str, category: str, label: str, code: str, seasonal: bool,
          months: Sequence[int]) -> CashLine:
    cur = get_currency(code)
    values = tuple(Money.from_minor(int(m), cur).amount for m in months)
    cat: IncomeSource | ExpenseKind = (IncomeSource(category) if kind == "income"
                                       else ExpenseKind(category))
    return CashLine(cat, values if seasonal else values[:1], cur, label, seasonal)


def _load(session: Session, ids: Sequence[int]) -> list[StoredGrid]:
    """The snapshots with these ids, in the order given, with their lines."""
    if not ids:
        return []
    g, ln = core_table("household_grid"), core_table("household_line")
    lines: dict[int, list[CashLine]] = {}
    rows = session.execute(
        sa.select(ln.c.grid_id, ln.c.kind, ln.c.category, ln.c.label, ln.c.currency,
                  ln.c.seasonal, *(ln.c[c] for c in MONTH_COLUMNS))
        .where(ln.c.grid_id.in_(ids)).order_by(ln.c.grid_id, ln.c.position)).all()
    for r in rows:
        lines.setdefault(int(r[0]), []).append(_line(r[1], r[2], r[3], r[4], bool(r[5]), r[6:]))
    heads = {int(r.id): r for r in session.execute(sa.select(g).where(g.c.id.in_(ids))).all()}
    out = []
    for grid_id in ids:
        h, got = heads[grid_id], lines.get(grid_id, [])
        out.append(StoredGrid(
            id=grid_id, family_id=int(h.family_id), recorded_on=h.recorded_on,
            recorded_by=h.recorded_by, usd_rate=h.usd_rate, rate_on=h.rate_on,
            savings=Money.from_minor(int(h.savings_minor), KHR).amount,
            follow_up_id=h.follow_up_id, note=h.note,
            incomes=tuple(x for x in got if isinstance(x.category, IncomeSource)),
            expenses=tuple(x for x in got if isinstance(x.category, ExpenseKind))))
    return out


def latest_grid(session: Session, *, actor: Actor, family_id: int,
                as_of: date | None = None) -> StoredGrid | None:
    """The family's current grid: its latest snapshot recorded on or before `as_of`."""
    actor.require(Permission.READ)
    visible_family(session, actor=actor, family_id=family_id)
    g = core_table("household_grid")
    query = sa.select(g.c.id).where(g.c.family_id == family_id)
    if as_of is not None:
        query = query.where(g.c.recorded_on <= as_of)
    found = session.execute(query.order_by(g.c.recorded_on.desc(), g.c.id.desc()).limit(1))
    grid_id = found.scalar()
    return None if grid_id is None else _load(session, [int(grid_id)])[0]


def follow_up_grid(session: Session, *, actor: Actor, follow_up_id: int) -> StoredGrid | None:
    """The snapshot a follow-up visit recorded (the latest naming it), if any."""
    actor.require(Permission.READ)
    g = core_table("household_grid")
    found = session.execute(sa.select(g.c.id, g.c.family_id).where(
        g.c.follow_up_id == follow_up_id).order_by(g.c.id.desc()).limit(1)).first()
    if found is None:
        return None
    visible_family(session, actor=actor, family_id=int(found[1]))
    return _load(session, [int(found[0])])[0]


def grid_history(session: Session, *, actor: Actor, family_id: int) -> tuple[StoredGrid, ...]:
    """Every snapshot of the family, oldest first."""
    actor.require(Permission.READ)
    visible_family(session, actor=actor, family_id=family_id)
    g = core_table("household_grid")
    ids = session.execute(sa.select(g.c.id).where(g.c.family_id == family_id)
                          .order_by(g.c.recorded_on, g.c.id)).scalars().all()
    return tuple(_load(session, [int(i) for i in ids]))


def _assumed(cur: Currency, stated: Decimal | None) -> list[str]:
    if cur == KHR or stated is not None:
        return []
    return [f"The grid states no dollar rate: {DEFAULT_USD_RATE} riel per dollar is assumed "
            "for dollar debts."]


def _informal_debts(session: Session, family_id: int, rate: Decimal,
                    stated: Decimal | None) -> tuple[list[DebtService], list[str]]:
    debt = core_table("informal_debt")
    rows = session.execute(
        sa.select(debt.c.lender_kind, debt.c.outstanding_minor, debt.c.currency,
                  debt.c.monthly_rate_pct)
        .where(debt.c.family_id == family_id).order_by(debt.c.id)).all()
    out, warnings = [], []
    for kind, minor, code, pct in rows:
        cur = get_currency(str(code))
        owed = to_riel(Money.from_minor(int(minor), cur).amount, cur, rate)
        warnings += _assumed(cur, stated)
        if owed <= 0:
            continue
        if pct is None:
            warnings.append(f"The {kind} debt of {Money(owed, KHR)} has no interest rate "
                            "recorded: no payments on it are counted.")
            continue
        out.append(informal_debt_service(f"{kind} (informal)", owed, Decimal(pct)))
    return out, warnings


def _months_after(start: date, due: date) -> int:
    return (due.year - start.year) * 12 + due.month - start.month


def _foundation_debts(session: Session, family_id: int, as_of: date, rate: Decimal,
                      stated: Decimal | None) -> tuple[list[DebtService], list[str]]:
    """The unpaid installments of the family's loans in force on `as_of`, month by month."""
    ln = core_table("loan")
    in_force = sa.and_(
        ln.c.family_id == family_id, ln.c.disbursed_on.is_not(None),
        ln.c.disbursed_on <= as_of,
        sa.or_(ln.c.closed_on.is_(None), ln.c.closed_on > as_of),
        sa.or_(ln.c.written_off_on.is_(None), ln.c.written_off_on > as_of))
    ids = session.execute(sa.select(ln.c.id).where(in_force).order_by(ln.c.id)).scalars().all()
    out, warnings = [], []
    for loan_id in ids:
        loan = session.get(Loan, int(loan_id))
        assert loan is not None
        cur: Currency = get_currency(loan.currency)
        warnings += _assumed(cur, stated)
        owed: dict[int, Decimal] = {}
        for inst in load_state(session, loan, as_of=as_of).installments:
            left = inst.outstanding.total
            if left > 0:
                month = max(1, _months_after(as_of, inst.due_date))
                owed[month] = owed.get(month, _ZERO) + to_riel(left, cur, rate)
        if owed:
            payments = tuple(owed.get(k, _ZERO) for k in range(1, max(owed) + 1))
            out.append(DebtService(f"Foundation loan {loan.ref}", payments))
    return out, warnings


def family_debts(session: Session, *, actor: Actor, family_id: int, as_of: date,
                 usd_rate: Decimal | None) -> tuple[tuple[DebtService, ...], tuple[str, ...]]:
    """The family's debt service for a loan disbursed on `as_of` (informal debts, then its
    Foundation loans in force) and what was assumed, dollars at `usd_rate` (riel per dollar;
    None: `DEFAULT_USD_RATE`, named in the warnings). A grid being edited uses this too."""
    actor.require(Permission.READ)
    visible_family(session, actor=actor, family_id=family_id)
    rate = DEFAULT_USD_RATE if usd_rate is None else usd_rate
    informal, notes = _informal_debts(session, family_id, rate, usd_rate)
    loans, more = _foundation_debts(session, family_id, as_of, rate, usd_rate)
    return tuple(informal + loans), tuple(dict.fromkeys(notes + more))  # each warning once


def build_household(session: Session, *, actor: Actor, family_id: int,
                    as_of: date) -> FamilyHousehold:
    """The family's `Household` for a loan disbursed on `as_of`: its grid as of that day, its
    informal debts and the rest of its Foundation loans. NotFound when no grid is recorded."""
    actor.require(Permission.READ)
    family = visible_family(session, actor=actor, family_id=family_id)
    grid = latest_grid(session, actor=actor, family_id=family_id, as_of=as_of)
    if grid is None:
        raise NotFound(f"family {family.ref} has no cash-flow grid recorded on or before "
                       f"{as_of}", field="family")
    debts, warnings = family_debts(session, actor=actor, family_id=family_id, as_of=as_of,
                                   usd_rate=grid.usd_rate)
    rate = DEFAULT_USD_RATE if grid.usd_rate is None else grid.usd_rate
    household = Household(incomes=grid.incomes, expenses=grid.expenses, debts=debts,
                          start=as_of, usd_rate=rate, opening_cash=grid.savings)
    return FamilyHousehold(family, grid, household, warnings)
