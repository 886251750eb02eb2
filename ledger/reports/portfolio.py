"""Portfolio quality as of a day: gross portfolio, PAR1/30/90, ageing buckets, repayment rates
and the write-off ratio — what the province reports to the ministry and to IOM.

PAR is measured on outstanding balances: the whole outstanding principal of any loan whose
oldest unpaid installment is at least (">=", the default) or more than (">") the threshold
late, plus every renegotiated loan, current or not, as the SEEP standards require. Written-off
and closed loans have left the portfolio (written-off ones count in the write-off ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.ageing import BUCKETS, Boundary, bucket_expr, in_portfolio, par_expr
from ledger.reports.positions import positions
from ledger.reports.rates import cumulative_terms, on_time_rows
from ledger.reports.scope import Ratio, loan_filters, minor, money, ratio

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


def portfolio_totals(session: Session, *, as_of: date, where: list[sa.ColumnElement[bool]],
                     currency: str, par_boundary: Boundary = ">=") -> PortfolioTotals:
    """One aggregation over `positions`: buckets and PAR of the loans in the portfolio, and the
    cumulative repayment terms of every loan disbursed by the day."""
    cur = get_currency(currency)
    pos = positions(as_of, where)
    inside = in_portfolio(pos, as_of)
    label = sa.case((inside, bucket_expr(pos, as_of)), else_="")
    value = pos.c.outstanding_principal
    received, fell = cumulative_terms(pos)
    cols: list[Any] = [label.label("bucket"), sa.func.count().label("loans"),
                       sa.func.sum(value).label("value"),
                       sa.func.sum(received).label("received"), sa.func.sum(fell).label("fell"),
                       sa.func.sum(sa.case((pos.c.version > 1, 1), else_=0)).label("reneg"),
                       sa.func.sum(sa.case((pos.c.version > 1, value), else_=0)).label("reneg_v")]
    for t in PAR_THRESHOLDS:
        at_risk = par_expr(pos, as_of, t, par_boundary)
        cols += [sa.func.sum(sa.case((at_risk, 1), else_=0)).label(f"n{t}"),
                 sa.func.sum(sa.case((at_risk, value), else_=0)).label(f"v{t}")]
    rows = {r.bucket: r for r in session.execute(sa.select(*cols).group_by(label)).all()}
    inside_rows = [r for b, r in rows.items() if b]
    gross = sum(minor(r.value) for r in inside_rows)
    buckets = tuple(BucketLine(b.value, minor(rows[b.value].loans) if b.value in rows else 0,
                               money(rows[b.value].value if b.value in rows else 0, cur))
                    for b in BUCKETS)
    par = tuple(ParLine(t, sum(minor(getattr(r, f"n{t}")) for r in inside_rows),
                        money(sum(minor(getattr(r, f"v{t}")) for r in inside_rows), cur),
                        ratio(sum(minor(getattr(r, f"v{t}")) for r in inside_rows), gross))
                for t in PAR_THRESHOLDS)
    return PortfolioTotals(
        buckets=buckets, par=par, gross=money(gross, cur),
        loans=sum(minor(r.loans) for r in inside_rows),
        renegotiated_loans=sum(minor(r.reneg) for r in inside_rows),
        renegotiated_value=money(sum(minor(r.reneg_v) for r in inside_rows), cur),
        received=money(sum(minor(r.received) for r in rows.values()), cur),
        fallen_due=money(sum(minor(r.fell) for r in rows.values()), cur))


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
    totals = portfolio_totals(session, as_of=as_of, where=where, currency=cur.code,
                              par_boundary=par_boundary)
    rows = on_time_rows(start, as_of, where)
    due, on_time = session.execute(
        sa.select(sa.func.sum(rows.c.tot), sa.func.sum(rows.c.on_time))).one()
    opening = gross_portfolio(session, as_of=start - timedelta(days=1), where=where,
                              currency=cur.code)
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
