"""Sheets that come from the ledger's reports (`ledger.reports`): each holds exactly what its
report function returns for the same as-of date (and the acting user's scope)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from exports.cells import Amount, Cell
from exports.checks import Check, Criterion, Ratio, Tally
from exports.context import ExportContext
from exports.workbook import Column, Table, Workbook
from ledger.money import Money
from ledger.reports.loans import LoanRow, loan_register_rows
from ledger.reports.portfolio import portfolio_quality
from ledger.reports.training import skill_outcomes

__all__ = ["LOAN_COLUMNS", "REPORT_SHEETS", "amount", "loan_cells", "loans_checks",
           "loans_register_sheet"]

PCT = "0.00%"


def amount(value: Money | None) -> Amount | None:
    """A report's `Money` as a cell amount (exact minor units)."""
    return None if value is None else Amount(value.minor, value.currency.code)


LOAN_COLUMNS = (
    Column("Loan", 14), Column("Family", 14), Column("Head of family", 24, private=True),
    Column("Latin spelling", 20, private=True), Column("Village code", 10),
    Column("Village", 18), Column("Currency", 8), Column("Principal", 14),
    Column("Rate %", 7, "0.00##"), Column("Rate per", 8), Column("Method", 10),
    Column("Repayments", 6, "0"), Column("Every", 5, "0"), Column("Unit", 6),
    Column("Disbursed on", 11), Column("Outstanding principal", 14),
    Column("Interest due", 12), Column("Overdue", 12), Column("Days late", 6, "0"),
    Column("Bucket", 10), Column("Status", 12),
)


def loan_cells(ctx: ExportContext, r: LoanRow) -> tuple[Cell, ...]:
    """One register row as cells (before pseudonymised columns are cut)."""
    family = ctx.family(r.family_id, r.family_ref)
    return (r.ref, family, r.family_name, r.family_name_latin, r.village_code, r.village_name,
            r.currency, amount(r.principal),
            r.rate, r.rate_period, r.method, r.repayments, r.every, r.unit, r.disbursed_on,
            amount(r.outstanding_principal), amount(r.interest_due), amount(r.overdue),
            r.days_overdue, r.bucket, str(r.status))


RENEGOTIATED = Criterion("Status", "renegotiated")
RENEGOTIATED_NOT = Criterion("Status", "renegotiated", "<>")


def loans_register_sheet(book: Workbook, ctx: ExportContext, tally: Tally) -> Table:
    """The Loans sheet: `loan_register` as of the export date, one row per disbursed loan,
    streamed (a national register would take gigabytes held whole)."""
    cut = ctx.mask(LOAN_COLUMNS)
    table = book.table("Loans", ctx.keep(LOAN_COLUMNS))
    for cur in _currencies(ctx):
        c = Criterion("Currency", cur)
        live = Criterion("Status", "written_off", "<>")
        tally.sum(table, "Outstanding principal", c, live)
        # PAR30 as the SEEP standards count it: 30+ days late, plus every renegotiated loan.
        tally.sum(table, "Outstanding principal", c, live, RENEGOTIATED_NOT,
                  Criterion("Days late", 30, ">="))
        tally.sum(table, "Outstanding principal", c, RENEGOTIATED)
    rows = loan_register_rows(ctx.session, actor=ctx.actor, as_of=ctx.as_of)
    tally.write(table, (cut(loan_cells(ctx, r)) for r in rows))
    table.finish()
    return table


def _currencies(ctx: ExportContext) -> list[str]:
    """The currencies of the trial balance: every loan on the register is among them, since
    its disbursement posted in its currency on or before the day."""
    from exports.journal_data import trial_balance

    return sorted({row[4] for row in trial_balance(ctx)})


def _find(tally: Tally, table: Table, *criteria: Criterion):  # type: ignore[no-untyped-def]
    return next(s for s in tally.sums if s.table is table and s.criteria == criteria)


def loans_checks(ctx: ExportContext, tally: Tally, loans: Table, currency: str,
                 portfolio: int) -> list[Check]:
    """Portfolio and PAR30 (as `portfolio_quality` reports it) recomputed from the Loans
    sheet."""
    quality = portfolio_quality(ctx.session, actor=ctx.actor, as_of=ctx.as_of,
                                currency=currency)
    par30 = next(line for line in quality.par if line.threshold == 30)
    c, live = Criterion("Currency", currency), Criterion("Status", "written_off", "<>")
    total = _find(tally, loans, c, live)
    at_risk = (_find(tally, loans, c, live, RENEGOTIATED_NOT, Criterion("Days late", 30, ">=")),
               _find(tally, loans, c, RENEGOTIATED))
    rate = par30.rate.value
    reported = Decimal(0) if rate is None else rate.quantize(Decimal("0.000001"),
                                                             ROUND_HALF_UP)
    return [
        Check("Portfolio = Σ outstanding principal on Loans", currency, portfolio, total),
        Check("Gross portfolio (Ageing and PAR) = Σ outstanding on Loans", currency,
              quality.gross_portfolio.minor, total),
        Check("PAR30 (Ageing and PAR) = Σ outstanding on Loans 30+ days late or renegotiated",
              currency,
              par30.value.minor, at_risk),
        Check("PAR30 ratio (Ageing and PAR) = recomputed from Loans, 6 places", currency,
              reported, Ratio(at_risk, total)),
    ]


def _training_sheet(book: Workbook, ctx: ExportContext, tally: Tally) -> Table:
    report = skill_outcomes(ctx.session, actor=ctx.actor, as_of=ctx.as_of)
    columns = (
        Column("Skill", 20), Column("Enrolled", 8, "0"), Column("In training", 8, "0"),
        Column("Completed", 8, "0"), Column("Dropped", 8, "0"),
        Column("Asked another skill", 9, "0"), Column("With a loan", 8, "0"),
        Column("Linked loans", 8, "0"), Column("PAR30 of linked loans", 9, PCT),
        Column("On-time rate", 9, PCT), Column("Followed up", 8, "0"),
        Column("Median monthly income", 14),
        Column(f"Earning at least {report.threshold}", 10, "0"),
    )
    table = book.table("Training outcomes", columns, split=False)
    for r in report.rows:
        table.append((r.skill, r.enrolled, r.in_training, r.completed, r.dropped, r.mismatched,
                      r.with_loan, r.linked_loans, r.par30, r.on_time_rate, r.followed_up,
                      amount(r.median_income), r.at_threshold))
    table.finish()
    return table


from exports.position_sheets import (  # noqa: E402 - the sheets below build on helpers above
    ageing_sheet,
    fund_sheet,
    reserve_sheet,
    villages_sheet,
)

REPORT_SHEETS: list[Callable[[Workbook, ExportContext, Tally], Table | None]] = [
    ageing_sheet,
    reserve_sheet,
    fund_sheet,
    villages_sheet,
    _training_sheet,
]
