"""Ageing and PAR, Loan-loss reserve, Fund position and Villages: each sheet holds what its
report function (`ledger.reports`) returns as of the export date, one block per currency or
fund."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from exports.cells import Amount, Cell
from exports.checks import Tally
from exports.context import ExportContext
from exports.workbook import Column, Table, Workbook
from ledger.db.tables import core_table
from ledger.money import Money
from ledger.reports.fund import fund_position
from ledger.reports.portfolio import portfolio_quality
from ledger.reports.reserve import loan_loss_reserve
from ledger.reports.scope import Ratio
from ledger.reports.villages import villages_report

__all__ = ["ageing_sheet", "fund_sheet", "reserve_sheet", "villages_sheet"]

PCT = "0.00%"


def _amount(value: Money | None) -> Amount | None:
    return None if value is None else Amount(value.minor, value.currency.code)


def _rate(value: Ratio) -> Decimal | None:
    return value.value


def _fund_currencies(ctx: ExportContext) -> list[tuple[str, str]]:
    fund = core_table("fund")
    return [(str(c), str(k)) for c, k in ctx.session.execute(
        sa.select(fund.c.code, fund.c.currency).order_by(fund.c.code))]


def _currencies(ctx: ExportContext) -> list[str]:
    return sorted({cur for _, cur in _fund_currencies(ctx)})


def ageing_sheet(book: Workbook, ctx: ExportContext, tally: Tally) -> Table:
    """`portfolio_quality` per currency: buckets, PAR lines and the period's rates."""
    table = book.table("Ageing and PAR", split=False, columns=(
        Column("Currency", 8), Column("Line", 34), Column("Loans", 8, "0"),
        Column("Outstanding principal", 16), Column("Share or rate", 12, PCT)))
    for cur in _currencies(ctx):
        q = portfolio_quality(ctx.session, actor=ctx.actor, as_of=ctx.as_of, currency=cur)
        rows: list[tuple[Cell, ...]] = [
            (cur, f"Bucket {b.bucket}", b.loans, _amount(b.value), None) for b in q.buckets]
        rows += [(cur, f"PAR{p.threshold} ({q.par_boundary} {p.threshold} days)", p.loans,
                  _amount(p.value), _rate(p.rate)) for p in q.par]
        rows += [
            (cur, "Gross portfolio", q.active_loans, _amount(q.gross_portfolio), None),
            (cur, "Renegotiated loans", q.renegotiated_loans, _amount(q.renegotiated_value),
             None),
            (cur, f"Due {q.period_start} to {q.as_of}", None, _amount(q.due_in_period), None),
            (cur, "Paid on time (on-time rate)", None, _amount(q.paid_on_time),
             _rate(q.on_time_rate)),
            (cur, "Fallen due to date", None, _amount(q.fallen_due_to_date), None),
            (cur, "Received to date (cumulative repayment rate)", None,
             _amount(q.received_to_date), _rate(q.cumulative_repayment_rate)),
            (cur, "Written off in period (write-off ratio)", q.loans_written_off_in_period,
             _amount(q.written_off_in_period), _rate(q.write_off_ratio)),
            (cur, "Average gross portfolio", None, _amount(q.average_gross_portfolio), None),
        ]
        table.extend(rows)
    table.finish()
    return table


def reserve_sheet(book: Workbook, ctx: ExportContext, tally: Tally) -> Table:
    """`loan_loss_reserve` per currency: each bucket's outstanding, rate and requirement."""
    table = book.table("Loan-loss reserve", split=False, columns=(
        Column("Currency", 8), Column("Bucket", 14), Column("Loans", 8, "0"),
        Column("Outstanding principal", 16), Column("Reserve rate %", 9, "0.00"),
        Column("Reserve required", 16)))
    for cur in _currencies(ctx):
        r = loan_loss_reserve(ctx.session, actor=ctx.actor, as_of=ctx.as_of, currency=cur)
        for line in r.lines:
            table.append((cur, line.bucket, line.loans, _amount(line.outstanding),
                          line.rate_pct, _amount(line.required)))
        table.append((cur, "Total", None, _amount(r.outstanding), None, _amount(r.required)))
    table.finish()
    return table


def fund_sheet(book: Workbook, ctx: ExportContext, tally: Tally) -> Table | None:
    """`fund_position` of every fund, one line per figure; none in a copy of some villages,
    since the fund's cash and capital belong to no village."""
    if ctx.actor.villages is not None:
        return None
    table = book.table("Fund position", split=False, columns=(
        Column("Fund", 8), Column("Line", 40), Column("Amount", 18), Column("Ratio", 10, PCT)))
    for code, _cur in _fund_currencies(ctx):
        f = fund_position(ctx.session, actor=ctx.actor, as_of=ctx.as_of, fund_code=code)
        rows: list[tuple[Cell, ...]] = [(code, "Capital received", _amount(f.capital), None)]
        rows += [(code, f"  from {who}", _amount(m), None) for who, m in f.capital_by_contributor]
        rows.append((code, "Cash", _amount(f.cash), None))
        rows += [(code, f"  {line.name}", _amount(line.balance), None) for line in f.cash_lines]
        rows += [
            (code, "Loan portfolio (outstanding principal)", _amount(f.portfolio), None),
            (code, "Loan portfolio in the books", _amount(f.portfolio_in_books), None),
            (code, "Performing portfolio", _amount(f.performing_portfolio), None),
            (code, "Interest earned", _amount(f.interest_earned), None),
            (code, "Fees earned", _amount(f.fees_earned), None),
            (code, "Recoveries", _amount(f.recoveries), None),
            (code, "Grants paid", _amount(f.grants_paid), None),
            (code, "Written off", _amount(f.written_off), None),
            (code, "Capital erosion", None, _rate(f.erosion)),
        ]
        table.extend(rows)
    table.finish()
    return table


def villages_sheet(book: Workbook, ctx: ExportContext, tally: Tally) -> Table:
    """`villages_report` per currency: villages, then districts, provinces and the total."""
    table = book.table("Villages", split=False, columns=(
        Column("Currency", 8), Column("Level", 9), Column("Province", 14),
        Column("District", 16), Column("Commune", 16), Column("Village code", 10),
        Column("Name", 20), Column("Families", 8, "0"), Column("Active loans", 8, "0"),
        Column("Disbursed", 14), Column("Outstanding", 14), Column("Overdue", 12),
        Column("PAR30", 12), Column("PAR30 rate", 9, PCT), Column("Due in period", 12),
        Column("Paid on time", 12)))
    for cur in _currencies(ctx):
        v = villages_report(ctx.session, actor=ctx.actor, as_of=ctx.as_of, currency=cur)
        for line in (*v.villages, *v.districts, *v.provinces, v.total):
            table.append((cur, line.level, line.province, line.district, line.commune,
                          line.code, line.name, line.families, line.active_loans,
                          _amount(line.disbursed), _amount(line.outstanding),
                          _amount(line.overdue), _amount(line.par30), _rate(line.par30_rate),
                          _amount(line.due_in_period), _amount(line.paid_on_time)))
    table.finish()
    return table
