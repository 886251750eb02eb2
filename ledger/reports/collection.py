"""The collection sheet a village treasurer takes to the monthly meeting.

One row per family with a loan open in the village at the start of the month (or paid out during
it): what falls due in the month and is not yet paid, the arrears brought forward (installments
due before the month, unpaid), the total to collect, and the last payment before the month. The
sheet stands as of the day before the month begins, so it reads the same whenever it is printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.positions import in_force, installments, paid_to_schedule
from ledger.reports.scope import clamp, minor, money, month_bounds
from ledger.services.errors import NotFound, ServiceError

__all__ = ["CollectionRow", "CollectionSheet", "collection_sheet"]


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """One family's line; the "collected" column is left blank for the treasurer."""

    family_ref: str
    family_name: str
    family_name_latin: str | None
    loan_ref: str
    due_this_month: Money
    arrears: Money
    to_collect: Money
    last_paid_on: date | None
    last_paid: Money


@dataclass(frozen=True, slots=True)
class CollectionSheet:
    """The sheet of one village (all villages with that code) for one month, with totals."""

    village_code: str
    village_names: tuple[str, ...]
    month: str
    first_day: date
    last_day: date
    currency: str
    rows: tuple[CollectionRow, ...]
    due_this_month: Money
    arrears: Money
    to_collect: Money


def _villages(session: Session, actor: Actor, code: str) -> list[tuple[int, str]]:
    vil = core_table("village")
    found = [(int(i), str(n)) for i, n in session.execute(
        sa.select(vil.c.id, vil.c.name_en).where(vil.c.code == code).order_by(vil.c.id)).all()]
    if not found:
        raise NotFound(f"there is no village with code {code!r} in this ledger",
                       field="village")
    if actor.villages is not None and code not in actor.villages:
        raise ServiceError(f"village {code} is not one of {actor.name}'s villages",
                           field="village")
    return found


@lru_cache(maxsize=16)
def _sheet_query(first: date, last: date, currency: str) -> sa.Select[Any]:
    """The sheet's rows for the villages bound as `sheet_villages` (a list of ids). Building
    the statement cost more than running it, and a month's sheets differ only in the
    village: it is built once per month and currency."""
    cutoff = first - timedelta(days=1)
    fam, ln = core_table("family"), core_table("loan")
    f = in_force(last, [fam.c.village_id.in_(sa.bindparam("sheet_villages", expanding=True)),
                        ln.c.currency == currency])
    paid = paid_to_schedule(cutoff, f)
    inst = installments(f, paid, cutoff)
    out = inst.c.tot - clamp(inst.c.pe - inst.c.cum + inst.c.tot, inst.c.tot)
    open_then = sa.and_(sa.or_(f.c.closed_on.is_(None), f.c.closed_on > cutoff),
                        sa.or_(f.c.written_off_on.is_(None), f.c.written_off_on > cutoff))
    owed = (
        sa.select(f.c.loan_id,
                  sa.func.sum(sa.case((inst.c.due_date < first, out), else_=0)).label("arrears"),
                  sa.func.sum(sa.case((sa.and_(inst.c.due_date >= first,
                                               inst.c.due_date <= last), out),
                                      else_=0)).label("due"))
        .select_from(f.join(inst, inst.c.loan_id == f.c.loan_id))
        .where(open_then).group_by(f.c.loan_id).subquery("owed")
    )
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    standing = sa.and_(rp.c.paid_on <= cutoff, ~sa.exists().where(rr.c.repayment_id == rp.c.id))
    last_day = (sa.select(rp.c.loan_id, sa.func.max(rp.c.paid_on).label("on"))
                .where(standing, rp.c.loan_id.in_(sa.select(owed.c.loan_id)))
                .group_by(rp.c.loan_id).subquery("last_day"))
    last_paid = (sa.select(rp.c.loan_id, last_day.c.on,
                           sa.func.sum(rp.c.amount_minor).label("amount"))
                 .join(last_day, sa.and_(last_day.c.loan_id == rp.c.loan_id,
                                         last_day.c.on == rp.c.paid_on))
                 .where(standing).group_by(rp.c.loan_id, last_day.c.on).subquery("last_paid"))
    return (
        sa.select(fam.c.ref.label("family_ref"), fam.c.head_name, fam.c.head_name_latin,
                  ln.c.ref, owed.c.arrears, owed.c.due, last_paid.c.on, last_paid.c.amount)
        .select_from(owed.join(ln, ln.c.id == owed.c.loan_id)
                     .join(fam, fam.c.id == ln.c.family_id)
                     .outerjoin(last_paid, last_paid.c.loan_id == owed.c.loan_id))
        .order_by(fam.c.ref, ln.c.ref))


def collection_sheet(session: Session, *, actor: Actor, village_code: str, month: str,
                     currency: str = "KHR") -> CollectionSheet:
    """The collection sheet of `village_code` for `month` (YYYY-MM)."""
    actor.require(Permission.COLLECTION_SHEETS)
    try:
        first, last = month_bounds(month)
    except ValueError as exc:
        raise ServiceError(str(exc), field="month") from exc
    cur = get_currency(currency)
    villages = _villages(session, actor, village_code)
    rows = session.execute(_sheet_query(first, last, cur.code),
                           {"sheet_villages": [v for v, _ in villages]}).all()
    lines = tuple(CollectionRow(
        family_ref=r.family_ref, family_name=r.head_name, family_name_latin=r.head_name_latin,
        loan_ref=r.ref, due_this_month=money(r.due, cur), arrears=money(r.arrears, cur),
        to_collect=money(minor(r.due) + minor(r.arrears), cur), last_paid_on=r.on,
        last_paid=money(r.amount, cur)) for r in rows)
    zero = Money.zero(cur)
    return CollectionSheet(
        village_code=village_code, village_names=tuple(n for _, n in villages),
        month=f"{first:%Y-%m}", first_day=first, last_day=last, currency=cur.code, rows=lines,
        due_this_month=sum((r.due_this_month for r in lines), zero),
        arrears=sum((r.arrears for r in lines), zero),
        to_collect=sum((r.to_collect for r in lines), zero))
