"""The dashboard's figures and the villages overview, by SQL aggregation where the ledger
allows and by replaying only the active loans where arrears need dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.db.tables import Loan, core_table
from ledger.money import KHR, Money

__all__ = ["Attention", "Dashboard", "VillageLine", "dashboard", "monthly_flows",
           "village_families", "villages"]


@dataclass(frozen=True, slots=True)
class Attention:
    """Something that needs a person: kind, who, and a line saying why."""

    kind: str
    target_id: int
    label: str
    why: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Headline figures as of a day, and what needs attention."""

    as_of: date
    portfolio: Money
    active_loans: int
    par30: Money
    par30_ratio: str
    on_time: str
    cash: Money
    due_this_month: Money
    attention: tuple[Attention, ...]
    flows: tuple[tuple[str, Money, Money], ...]


def _role_balance(session: Session, role: str, as_of: date) -> Money:
    post, acct, je = core_table("posting"), core_table("account"), core_table("journal_entry")
    total = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(post.c.amount_minor), 0))
        .join(acct, acct.c.id == post.c.account_id).join(je, je.c.id == post.c.entry_id)
        .where(acct.c.role == role, acct.c.currency == "KHR", je.c.occurred_on <= as_of)
    ).scalar_one()
    return Money.from_minor(int(total), KHR)


def monthly_flows(session: Session, as_of: date,
                  months: int = 12) -> tuple[tuple[str, Money, Money], ...]:
    """Money lent and collected (riel) per month for the `months` months up to `as_of`."""
    post, acct, je = core_table("posting"), core_table("account"), core_table("journal_entry")
    y, m = as_of.year, as_of.month - months + 1
    while m < 1:
        y, m = y - 1, m + 12
    start = date(y, m, 1)
    year, month = sa.extract("year", je.c.occurred_on), sa.extract("month", je.c.occurred_on)
    rows = session.execute(
        sa.select(year, month, je.c.kind, sa.func.sum(post.c.amount_minor))
        .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
        .where(acct.c.role == "cash", acct.c.currency == "KHR",
               je.c.kind.in_(("disbursement", "repayment", "recovery")),
               je.c.occurred_on >= start, je.c.occurred_on <= as_of)
        .group_by(year, month, je.c.kind)).all()
    lent: dict[tuple[int, int], int] = {}
    got: dict[tuple[int, int], int] = {}
    for yy, mm, kind, total in rows:
        key = (int(yy), int(mm))
        target = lent if kind == "disbursement" else got
        target[key] = target.get(key, 0) + abs(int(total))
    out = []
    for _ in range(months):
        out.append((f"{y}-{m:02d}", Money.from_minor(lent.get((y, m), 0), KHR),
                    Money.from_minor(got.get((y, m), 0), KHR)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


def _pct(ratio: object) -> str:
    value = getattr(ratio, "value", None)
    return "—" if value is None else f"{value * 100:.2f} %"


def dashboard(session: Session, actor: Actor, as_of: date) -> Dashboard:
    """The dashboard as of `as_of`, from the reports (SQL aggregation): portfolio, PAR30,
    on-time rate, cash, what falls due this month, and what needs attention."""
    from ledger.reports import fund_position, loan_register, portfolio_quality

    quality = portfolio_quality(session, actor=actor, as_of=as_of)
    par30 = next((p for p in quality.par if p.threshold == 30), None)
    cash = fund_position(session, actor=actor, as_of=as_of).cash
    fam = core_table("family")
    waiting = session.execute(
        sa.select(Loan.id, Loan.ref, Loan.status, fam.c.ref, fam.c.head_name_latin)  # type: ignore[call-overload]
        .join(fam, fam.c.id == Loan.family_id).where(Loan.status.in_(("applied", "approved")))  # type: ignore[attr-defined]
        .order_by(Loan.id)).all()
    attention = [Attention("loan", int(i), f"{fr} {latin or ''}".strip(),
                           f"{ref} awaiting {'approval' if st == 'applied' else 'disbursement'}")
                 for i, ref, st, fr, latin in waiting]
    late = sorted((r for r in loan_register(session, actor=actor, as_of=as_of)
                   if r.days_overdue > 0 and r.status != "written_off"),
                  key=lambda r: -r.days_overdue)
    attention += [Attention("loan", r.loan_id,
                            f"{r.family_ref} {r.family_name_latin or r.family_name}",
                            f"{r.ref}: {r.overdue} overdue, {r.days_overdue} days")
                  for r in late[:50]]
    return Dashboard(
        as_of=as_of, portfolio=quality.gross_portfolio, active_loans=quality.active_loans,
        par30=par30.value if par30 else Money.zero(KHR),
        par30_ratio=_pct(par30.rate) if par30 else "—", on_time=_pct(quality.on_time_rate),
        cash=cash, due_this_month=_due_this_month(session, as_of),
        attention=tuple(attention), flows=monthly_flows(session, as_of))


def _due_this_month(session: Session, as_of: date) -> Money:
    """What the schedules in force ask of active loans in `as_of`'s month (riel)."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    loan = core_table("loan")
    newest = (sa.select(ls.c.loan_id, sa.func.max(ls.c.version).label("version"))
              .group_by(ls.c.loan_id).subquery())
    first = date(as_of.year, as_of.month, 1)
    after = date(as_of.year + (as_of.month == 12), as_of.month % 12 + 1, 1)
    total = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(si.c.principal_minor + si.c.interest_minor
                                               + si.c.fee_minor), 0))
        .join(ls, ls.c.id == si.c.schedule_id)
        .join(newest, sa.and_(newest.c.loan_id == ls.c.loan_id,
                              newest.c.version == ls.c.version))
        .join(loan, loan.c.id == ls.c.loan_id)
        .where(loan.c.status == "active", loan.c.currency == "KHR", si.c.due_date >= first,
               si.c.due_date < after)).scalar_one()
    return Money.from_minor(int(total), KHR)


@dataclass(frozen=True, slots=True)
class VillageLine:
    """A village's families, active loans and the principal they still owe."""

    id: int
    name: str
    name_kh: str
    families: int
    active: int
    outstanding: Money


def villages(session: Session, as_of: date) -> list[VillageLine]:
    """Every village with families in the ledger, with its loans' outstanding principal."""
    vil, fam, loan = core_table("village"), core_table("family"), core_table("loan")
    post, acct, je = core_table("posting"), core_table("account"), core_table("journal_entry")
    owed = (sa.select(fam.c.village_id, sa.func.sum(post.c.amount_minor).label("owed"))
            .join(loan, loan.c.id == post.c.loan_id).join(fam, fam.c.id == loan.c.family_id)
            .join(acct, acct.c.id == post.c.account_id).join(je, je.c.id == post.c.entry_id)
            .where(acct.c.role == "loan_portfolio", je.c.occurred_on <= as_of)
            .group_by(fam.c.village_id).subquery())
    active = (sa.select(fam.c.village_id, sa.func.count(loan.c.id).label("n"))
              .join(loan, loan.c.family_id == fam.c.id).where(loan.c.status == "active")
              .group_by(fam.c.village_id).subquery())
    counts = (sa.select(fam.c.village_id, sa.func.count(fam.c.id).label("n"))
              .group_by(fam.c.village_id).subquery())
    rows = session.execute(
        sa.select(vil.c.id, vil.c.name_en, vil.c.name_kh, counts.c.n, active.c.n, owed.c.owed)
        .join(counts, counts.c.village_id == vil.c.id)
        .outerjoin(active, active.c.village_id == vil.c.id)
        .outerjoin(owed, owed.c.village_id == vil.c.id).order_by(vil.c.name_en)).all()
    return [VillageLine(int(i), en, kh, int(n), int(a or 0), Money.from_minor(int(o or 0), KHR))
            for i, en, kh, n, a, o in rows]


def village_families(session: Session, village_id: int) -> list[tuple[int, tuple[str, ...]]]:
    """A village's families with their latest loan: (family id, cells)."""
    fam, loan = core_table("family"), core_table("loan")
    latest = (sa.select(loan.c.family_id, sa.func.max(loan.c.id).label("loan_id"))
              .group_by(loan.c.family_id).subquery())
    rows = session.execute(
        sa.select(fam.c.id, fam.c.ref, fam.c.head_name_latin, fam.c.head_name, loan.c.ref,
                  loan.c.status, loan.c.principal_minor, loan.c.currency)
        .outerjoin(latest, latest.c.family_id == fam.c.id)
        .outerjoin(loan, loan.c.id == latest.c.loan_id)
        .where(fam.c.village_id == village_id).order_by(fam.c.ref)).all()
    return [(int(i), (ref, latin or name, lref or "", status or "",
                      str(Money.from_minor(int(p), cur)) if p is not None else "", name))
            for i, ref, latin, name, lref, status, p, cur in rows]
