"""Villages as of a day: families, loans, money lent and owed, PAR30 and the on-time rate per
village, with district and province subtotals.

Three grouped queries (families, loan positions, installments fallen due in the period) give
one line per village; subtotals add those lines' numerators and denominators, so a district's
PAR30 is its PAR30 value over its portfolio, never an average of percentages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.ageing import in_portfolio, par_expr
from ledger.reports.portfolio import default_period_start
from ledger.reports.positions import positions
from ledger.reports.rates import on_time_rows
from ledger.reports.scope import Ratio, loan_filters, minor, money, ratio, village_filter
from ledger.services.errors import ServiceError

__all__ = ["SORT_COLUMNS", "VillageLine", "VillagesReport", "villages_report"]

# Sortable columns; text columns sort A→Z, figures largest first.
SORT_COLUMNS = ("code", "name", "families", "active_loans", "disbursed", "outstanding",
                "overdue", "par30", "on_time")


@dataclass(frozen=True, slots=True)
class VillageLine:
    """One village (or a district, province or grand total when `level` says so)."""

    level: str  # "village", "district", "province" or "total"
    province: str
    district: str
    commune: str
    code: str | None
    name: str
    families: int
    active_loans: int
    disbursed: Money
    outstanding: Money
    overdue: Money
    par30: Money
    due_in_period: Money
    paid_on_time: Money

    @property
    def par30_rate(self) -> Ratio:
        """PAR30 value ÷ outstanding principal."""
        return ratio(self.par30.amount, self.outstanding.amount)

    @property
    def on_time_rate(self) -> Ratio:
        """Amount paid on time ÷ amount fallen due in the period."""
        return ratio(self.paid_on_time.amount, self.due_in_period.amount)

    def sort_key(self, column: str) -> Any:
        """The value this line sorts by in `column` (figures negated: largest first)."""
        if column in ("code", "name"):
            return (getattr(self, column) or "", self.name)
        if column == "on_time":
            return (-(self.on_time_rate.value or Decimal(-1)), self.name)
        value = getattr(self, column)
        return (-(value.amount if isinstance(value, Money) else value), self.name)


@dataclass(frozen=True, slots=True)
class VillagesReport:
    """Village lines in the chosen order, district and province subtotals, and the total."""

    as_of: date
    period_start: date
    currency: str
    sort: str
    villages: tuple[VillageLine, ...]
    districts: tuple[VillageLine, ...]
    provinces: tuple[VillageLine, ...]
    total: VillageLine


def _add(a: VillageLine, b: VillageLine) -> VillageLine:
    return replace(a, families=a.families + b.families, active_loans=a.active_loans +
                   b.active_loans, disbursed=a.disbursed + b.disbursed,
                   outstanding=a.outstanding + b.outstanding, overdue=a.overdue + b.overdue,
                   par30=a.par30 + b.par30, due_in_period=a.due_in_period + b.due_in_period,
                   paid_on_time=a.paid_on_time + b.paid_on_time)


def _subtotals(lines: list[VillageLine], level: str) -> tuple[VillageLine, ...]:
    groups: dict[tuple[str, str], VillageLine] = {}
    for line in lines:
        district = line.district if level == "district" else ""
        key = (line.province, district)
        if key not in groups:
            zero = Money.zero(line.disbursed.currency)
            groups[key] = replace(line, level=level, district=district, commune="", code=None,
                                  name=district or line.province, families=0, active_loans=0,
                                  disbursed=zero, outstanding=zero, overdue=zero, par30=zero,
                                  due_in_period=zero, paid_on_time=zero)
        groups[key] = _add(groups[key], line)
    return tuple(groups[k] for k in sorted(groups))


def villages_report(session: Session, *, actor: Actor, as_of: date,
                    period_start: date | None = None, sort: str = "code",
                    currency: str = "KHR") -> VillagesReport:
    """Per village with families or loans by `as_of`: families, active loans, disbursed,
    outstanding, overdue, PAR30 and the on-time rate of [period_start, as_of]."""
    actor.require(Permission.READ)
    if sort not in SORT_COLUMNS:
        raise ServiceError(f"{sort!r} is not a column; one of: {', '.join(SORT_COLUMNS)}",
                           field="sort")
    cur = get_currency(currency)
    start = period_start or default_period_start(as_of)
    where = loan_filters(actor, currency=cur.code)
    fam = core_table("family")
    fam_where = [fam.c.registered_on <= as_of]
    if actor.villages is not None:
        fam_where.append(village_filter(fam.c.village_id, actor.villages))
    families: dict[int, object] = dict(session.execute(sa.select(fam.c.village_id, sa.func.count())
                                    .where(*fam_where).group_by(fam.c.village_id)).all())
    pos = positions(as_of, where)
    inside = in_portfolio(pos, as_of)
    value = sa.case((inside, pos.c.outstanding_principal), else_=0)
    loans = {r.village_id: r for r in session.execute(
        sa.select(pos.c.village_id,
                  sa.func.sum(sa.case((inside, 1), else_=0)).label("active"),
                  sa.func.sum(pos.c.principal_minor).label("disbursed"),
                  sa.func.sum(value).label("outstanding"),
                  sa.func.sum(sa.case((inside, pos.c.overdue), else_=0)).label("overdue"),
                  sa.func.sum(sa.case((sa.and_(inside, par_expr(pos, as_of, 30, ">=")),
                                       pos.c.outstanding_principal), else_=0)).label("par30"))
        .group_by(pos.c.village_id)).all()}
    due = on_time_rows(start, as_of, where)
    rates = {r.village_id: r for r in session.execute(
        sa.select(due.c.village_id, sa.func.sum(due.c.tot).label("due"),
                  sa.func.sum(due.c.on_time).label("on_time")).group_by(due.c.village_id)).all()}
    ids = sorted(set(families) | set(loans) | set(rates))
    vil, com, dis, pro = (core_table(t) for t in ("village", "commune", "district", "province"))
    places = session.execute(
        sa.select(vil.c.id, vil.c.code, vil.c.name_en, com.c.name_en.label("commune"),
                  dis.c.name_en.label("district"), pro.c.name_en.label("province"))
        .select_from(vil.join(com, com.c.code == vil.c.commune_code)
                     .join(dis, dis.c.code == com.c.district_code)
                     .join(pro, pro.c.code == dis.c.province_code))
        .where(vil.c.id.in_(ids))).all()
    lines = []
    for p in places:
        lr, rr = loans.get(p.id), rates.get(p.id)
        lines.append(VillageLine(
            level="village", province=p.province, district=p.district, commune=p.commune,
            code=p.code, name=p.name_en, families=minor(families.get(p.id)),
            active_loans=minor(lr.active if lr else 0),
            disbursed=money(lr.disbursed if lr else 0, cur),
            outstanding=money(lr.outstanding if lr else 0, cur),
            overdue=money(lr.overdue if lr else 0, cur), par30=money(lr.par30 if lr else 0, cur),
            due_in_period=money(rr.due if rr else 0, cur),
            paid_on_time=money(rr.on_time if rr else 0, cur)))
    lines.sort(key=lambda line: line.sort_key(sort))
    zero = Money.zero(cur)
    total = VillageLine("total", "", "", "", None, "Total", 0, 0, zero, zero, zero, zero, zero,
                        zero)
    for line in lines:
        total = _add(total, line)
    return VillagesReport(as_of, start, cur.code, sort, tuple(lines),
                          _subtotals(lines, "district"),
                          _subtotals(lines, "province"), total)
