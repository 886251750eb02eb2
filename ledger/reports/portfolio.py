"""Portfolio quality as of a day: gross portfolio, PAR1/30/90, ageing buckets, repayment rates
and the write-off ratio — what the province reports to the ministry and to IOM.

PAR is measured on outstanding balances: the whole outstanding principal of any loan whose
oldest unpaid installment is at least (">=", the default) or more than (">") the threshold
late, plus every renegotiated loan, current or not, as the SEEP standards require. Written-off
and closed loans have left the portfolio (written-off ones count in the write-off ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.ageing import BUCKETS, Boundary, bucket_expr, in_portfolio, par_expr
from ledger.reports.period import period_params, period_rows, scoped_period_rows
from ledger.reports.positions import positions
from ledger.reports.rates import cumulative_terms
from ledger.reports.scope import Ratio, loan_filters, minor, money, planned_for_reports, ratio

__all__ = [
    "PAR_THRESHOLDS",
    "BucketLine",
    "ParLine",
    "PortfolioQuality",
    "PortfolioTotals",
    "default_period_start",
    "gross_portfolio",
    "portfolio_quality",
    "portfolio_totals",
]

PAR_THRESHOLDS = (1, 30, 90)


@dataclass(frozen=True, slots=True)
class BucketLine:
    """Loans in one ageing bucket: how many, and their outstanding principal."""

    bucket: str
    loans: int
    value: Money


@dataclass(frozen=True, slots=True)
class ParLine:
    """PAR at one threshold: the loans at risk, their outstanding principal and its share."""

    threshold: int
    loans: int
    value: Money
    rate: Ratio


@dataclass(frozen=True, slots=True)
class PortfolioTotals:
    """The portfolio on a day by bucket and PAR, plus the cumulative repayment terms."""

    buckets: tuple[BucketLine, ...]
    par: tuple[ParLine, ...]
    gross: Money
    loans: int
    renegotiated_loans: int
    renegotiated_value: Money
    received: Money
    fallen_due: Money


@dataclass(frozen=True, slots=True)
class PortfolioQuality:
    """The portfolio quality report (see the module docstring for each measure)."""

    as_of: date
    period_start: date
    currency: str
    par_boundary: Boundary
    gross_portfolio: Money
    active_loans: int
    renegotiated_loans: int
    renegotiated_value: Money
    par: tuple[ParLine, ...]
    buckets: tuple[BucketLine, ...]
    due_in_period: Money
    paid_on_time: Money
    on_time_rate: Ratio
    fallen_due_to_date: Money
    received_to_date: Money
    cumulative_repayment_rate: Ratio
    written_off_in_period: Money
    loans_written_off_in_period: int
    average_gross_portfolio: Money
    write_off_ratio: Ratio


def _aggregate(session: Session, pos: sa.Subquery, *, as_of: date, currency: str,
               par_boundary: Boundary, params: dict[str, Any] | None = None
               ) -> tuple[PortfolioTotals, int, int, int]:
    """Buckets, PAR and cumulative terms from one GROUP BY over `period_rows`, with the
    period's opening gross, amount fallen due and amount paid on time (minor units)."""
    cur = get_currency(currency)
    inside = pos.c.inside == 1
    label = sa.case((inside, bucket_expr(pos, as_of)), else_="")
    value = pos.c.outstanding_principal
    received, fell = cumulative_terms(pos)
    now_in = pos.c.now_in == 1
    reneg = sa.and_(inside, pos.c.version > 1)
    cols: list[Any] = [label.label("bucket"), sa.func.sum(pos.c.inside).label("loans"),
                       sa.func.sum(sa.case((inside, value), else_=0)).label("value"),
                       sa.func.sum(sa.case((now_in, received), else_=0)).label("received"),
                       sa.func.sum(sa.case((now_in, fell), else_=0)).label("fell"),
                       sa.func.sum(sa.case((reneg, 1), else_=0)).label("reneg"),
                       sa.func.sum(sa.case((reneg, value), else_=0)).label("reneg_v"),
                       sa.func.sum(sa.case((pos.c.open_in == 1, pos.c.opening_principal),
                                           else_=0)).label("opening"),
                       sa.func.sum(pos.c.due_in_period).label("due"),
                       sa.func.sum(pos.c.on_time).label("on_time")]
    for t in PAR_THRESHOLDS:
        at_risk = sa.and_(inside, par_expr(pos, as_of, t, par_boundary))
        cols += [sa.func.sum(sa.case((at_risk, 1), else_=0)).label(f"n{t}"),
                 sa.func.sum(sa.case((at_risk, value), else_=0)).label(f"v{t}")]
    with planned_for_reports(session):
        rows = {r.bucket: r for r in session.execute(sa.select(*cols).group_by(label),
                                                     params or {}).all()}

    def total(name: str) -> int:
        return sum(minor(getattr(r, name)) for r in rows.values())

    gross = total("value")
    buckets = tuple(BucketLine(b.value, minor(rows[b.value].loans) if b.value in rows else 0,
                               money(rows[b.value].value if b.value in rows else 0, cur))
                    for b in BUCKETS)
    par = tuple(ParLine(t, total(f"n{t}"), money(total(f"v{t}"), cur),
                        ratio(total(f"v{t}"), gross))
                for t in PAR_THRESHOLDS)
    totals = PortfolioTotals(
        buckets=buckets, par=par, gross=money(gross, cur), loans=total("loans"),
        renegotiated_loans=total("reneg"), renegotiated_value=money(total("reneg_v"), cur),
        received=money(total("received"), cur), fallen_due=money(total("fell"), cur))
    return totals, total("opening"), total("due"), total("on_time")


def portfolio_totals(session: Session, *, as_of: date, where: list[sa.ColumnElement[bool]],
                     currency: str, par_boundary: Boundary = ">=") -> PortfolioTotals:
    """Buckets and PAR of the loans in the portfolio on `as_of`, and the cumulative repayment
    terms of every loan disbursed by the day: one aggregation over `period_rows`."""
    pos = period_rows(as_of=as_of, start=as_of, where=where)
    return _aggregate(session, pos, as_of=as_of, currency=currency,
                      par_boundary=par_boundary)[0]


def gross_portfolio(session: Session, *, as_of: date, where: list[sa.ColumnElement[bool]],
                    currency: str) -> Money:
    """The outstanding principal of the loans in the portfolio on `as_of`."""
    pos = positions(as_of, where)
    total = session.execute(sa.select(sa.func.sum(pos.c.outstanding_principal))
                            .where(in_portfolio(pos, as_of))).scalar()
    return money(total, currency)


def _written_off(session: Session, start: date, as_of: date,
                 where: list[sa.ColumnElement[bool]], currency: str) -> tuple[Money, int]:
    """Principal written off in [start, as_of], from the journal's write-off entries."""
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    ln, fam = core_table("loan"), core_table("family")
    total, loans = session.execute(
        sa.select(sa.func.sum(post.c.amount_minor), sa.func.count(sa.distinct(post.c.loan_id)))
        .select_from(post.join(je, je.c.id == post.c.entry_id)
                     .join(acct, acct.c.id == post.c.account_id)
                     .join(ln, ln.c.id == post.c.loan_id).join(fam, fam.c.id == ln.c.family_id))
        .where(je.c.kind == "write_off", acct.c.role == "loan_loss_expense",
               je.c.occurred_on >= start, je.c.occurred_on <= as_of, *where)
    ).one()
    return money(total, currency), minor(loans)


def default_period_start(as_of: date) -> date:
    """The first day of the as-of month: the period of the rates unless one is given."""
    return as_of.replace(day=1)


def portfolio_quality(session: Session, *, actor: Actor, as_of: date,
                      period_start: date | None = None, par_boundary: Boundary = ">=",
                      currency: str = "KHR") -> PortfolioQuality:
    """Portfolio quality at the end of `as_of`; the on-time rate and the write-off ratio cover
    [period_start, as_of] (default: from the first of the as-of month)."""
    actor.require(Permission.READ)
    cur = get_currency(currency)
    start = period_start or default_period_start(as_of)
    if start > as_of:
        raise ValueError(f"the period starts on {start}, after {as_of}")
    where = loan_filters(actor, currency=cur.code)
    # One pass gives the day's portfolio, the opening gross and the period's on-time terms.
    pos = scoped_period_rows(currency=cur.code, villages=actor.villages)
    totals, opening_minor, due, on_time = _aggregate(
        session, pos, as_of=as_of, currency=cur.code, par_boundary=par_boundary,
        params=period_params(as_of, start))
    opening = money(opening_minor, cur)
    average = (opening.amount + totals.gross.amount) / 2
    written, written_loans = _written_off(session, start, as_of, where, cur.code)
    return PortfolioQuality(
        as_of=as_of, period_start=start, currency=cur.code, par_boundary=par_boundary,
        gross_portfolio=totals.gross, active_loans=totals.loans,
        renegotiated_loans=totals.renegotiated_loans,
        renegotiated_value=totals.renegotiated_value, par=totals.par, buckets=totals.buckets,
        due_in_period=money(due, cur), paid_on_time=money(on_time, cur),
        on_time_rate=ratio(on_time, due), fallen_due_to_date=totals.fallen_due,
        received_to_date=totals.received,
        cumulative_repayment_rate=ratio(totals.received.amount, totals.fallen_due.amount),
        written_off_in_period=written, loans_written_off_in_period=written_loans,
        average_gross_portfolio=Money(average.quantize(cur.quantum), cur),
        write_off_ratio=ratio(written.amount, average))
