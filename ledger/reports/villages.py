"""Villages as of a day: families, loans, money lent and owed, PAR30 and the on-time rate per
village, with district and province subtotals.

One statement gives every village line: families, what was lent, and the period's loans from
`period_rows` (carrying both the day's positions and the installments fallen due in the
period); subtotals add those lines' numerators and denominators, so a district's PAR30 is its
PAR30 value over its portfolio, never an average of percentages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Currency, Money, get_currency
from ledger.reports.ageing import par_expr
from ledger.reports.period import period_params, scoped_period_rows
from ledger.reports.portfolio import default_period_start
from ledger.reports.scope import (
    Ratio,
    loan_filters,
    minor,
    money,
    planned_for_reports,
    ratio,
    village_filter,
)
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


_COUNTS = ("families", "active_loans")
_AMOUNTS = ("disbursed", "outstanding", "overdue", "par30", "due_in_period", "paid_on_time")


def _summed(lines: list[VillageLine], currency: Currency, **labels: Any) -> VillageLine:
    """One line adding up `lines`, labelled by `labels` (exact Decimal sums made Money once,
    rather than a Money addition per line and figure)."""
    figures: dict[str, Any] = {f: sum(getattr(x, f) for x in lines) for f in _COUNTS}
    figures |= {f: Money(sum((getattr(x, f).amount for x in lines), Decimal(0)), currency)
                for f in _AMOUNTS}
    return VillageLine(**labels, **figures)


def _subtotals(lines: list[VillageLine], level: str,
               currency: Currency) -> tuple[VillageLine, ...]:
    groups: dict[tuple[str, str], list[VillageLine]] = defaultdict(list)
    for line in lines:
        groups[(line.province, line.district if level == "district" else "")].append(line)
    return tuple(_summed(groups[k], currency, level=level, province=k[0], district=k[1],
                         commune="", code=None, name=k[1] or k[0]) for k in sorted(groups))


def _lines_query(actor: Actor, currency: str, as_of: date) -> sa.Select[Any]:
    """One statement for every village line: its place, families registered by `as_of`, what
    was lent there by then, and from `scoped_period_rows` (the loans still lent out when the
    period opens) active loans, outstanding, overdue, PAR30 and the on-time terms."""
    fam, ln = core_table("family"), core_table("loan")
    fam_where = [fam.c.registered_on <= as_of]
    if actor.villages is not None:
        fam_where.append(village_filter(fam.c.village_id, actor.villages))
    families = (sa.select(fam.c.village_id, sa.func.count().label("families"))
                .where(*fam_where).group_by(fam.c.village_id).cte("families"))
    # What was lent needs no schedule: a plain SUM over the loans disbursed by the day.
    lent = (sa.select(fam.c.village_id, sa.func.sum(ln.c.principal_minor).label("disbursed"))
            .select_from(ln.join(fam, fam.c.id == ln.c.family_id))
            .where(ln.c.disbursed_on <= as_of, *loan_filters(actor, currency=currency))
            .group_by(fam.c.village_id).cte("lent"))
    pos = scoped_period_rows(currency=currency, villages=actor.villages, include_closed=False)
    inside = pos.c.inside == 1
    loans = (sa.select(pos.c.village_id, sa.func.sum(pos.c.inside).label("active"),
                       sa.func.sum(sa.case((inside, pos.c.outstanding_principal), else_=0))
                       .label("outstanding"),
                       sa.func.sum(sa.case((inside, pos.c.overdue), else_=0)).label("overdue"),
                       sa.func.sum(sa.case((sa.and_(inside, par_expr(pos, as_of, 30, ">=")),
                                            pos.c.outstanding_principal), else_=0))
                       .label("par30"),
                       sa.func.sum(pos.c.due_in_period).label("due"),
                       sa.func.sum(pos.c.on_time).label("on_time"))
             .group_by(pos.c.village_id).subquery("loans"))
    # Every loan was lent, so the villages with families or loans are those of both lists
    # (CTEs, so that each list is computed once for the union and the join).
    ids = sa.union(sa.select(families.c.village_id), sa.select(lent.c.village_id)).subquery("ids")
    vil, com, dis, pro = (core_table(t) for t in ("village", "commune", "district", "province"))
    return (
        sa.select(vil.c.code, vil.c.name_en, com.c.name_en.label("commune"),
                  dis.c.name_en.label("district"), pro.c.name_en.label("province"),
                  families.c.families, lent.c.disbursed, loans.c.active, loans.c.outstanding,
                  loans.c.overdue, loans.c.par30, loans.c.due, loans.c.on_time)
        .select_from(ids.join(vil, vil.c.id == ids.c.village_id)
                     .join(com, com.c.code == vil.c.commune_code)
                     .join(dis, dis.c.code == com.c.district_code)
                     .join(pro, pro.c.code == dis.c.province_code)
                     .outerjoin(families, families.c.village_id == ids.c.village_id)
                     .outerjoin(lent, lent.c.village_id == ids.c.village_id)
                     .outerjoin(loans, loans.c.village_id == ids.c.village_id))
    )


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
    with planned_for_reports(session):
        rows = session.execute(_lines_query(actor, cur.code, as_of),
                               period_params(as_of, start)).all()
    lines = [VillageLine(
        level="village", province=r.province, district=r.district, commune=r.commune,
        code=r.code, name=r.name_en, families=minor(r.families), active_loans=minor(r.active),
        disbursed=money(r.disbursed, cur), outstanding=money(r.outstanding, cur),
        overdue=money(r.overdue, cur), par30=money(r.par30, cur),
        due_in_period=money(r.due, cur), paid_on_time=money(r.on_time, cur)) for r in rows]
    lines.sort(key=lambda line: line.sort_key(sort))
    total = _summed(lines, cur, level="total", province="", district="", commune="",
                    code=None, name="Total")
    return VillagesReport(as_of, start, cur.code, sort, tuple(lines),
                          _subtotals(lines, "district", cur),
                          _subtotals(lines, "province", cur), total)
