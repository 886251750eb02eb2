"""`fsf export ledger`: the auditor workbook — every figure tied to the journal, and a Checks
sheet that proves the totals when the file is opened."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from exports.cells import Cell
from exports.checks import Check, Criterion, Sum, Tally, write_checks
from exports.context import Dataset, ExportContext, narrowed
from exports.journal_data import (
    GENERAL_LEDGER,
    JOURNAL,
    TRIAL_BALANCE,
    tb_rows,
    trial_balance,
)
from exports.loan_data import INSTALLMENTS, PAYMENTS, standing_payments
from exports.report_sheets import REPORT_SHEETS, loans_checks, loans_register_sheet
from exports.summary import write_summary
from exports.whole_file import written_whole
from exports.workbook import EXCEL_MAX_ROWS, Table, Workbook
from ledger.actor import Actor, Permission
from ledger.privacy import Pseudonyms, pseudonym_secret

__all__ = ["LedgerExport", "export_ledger"]

Balance = tuple[str, str, str, str, str, int, int]  # a `trial_balance` row


@dataclass(frozen=True, slots=True)
class LedgerExport:
    """What was written: the file, its sheets with their data rows, and whether checks hold."""

    path: Path
    sheets: tuple[tuple[str, int], ...]
    checks_hold: bool
    covers: str | None = None  # the places of a workbook of some villages


def _write(book: Workbook, tally: Tally, table: Table, ctx: ExportContext,
           data: Dataset, rows: Iterable[Sequence[Cell]] | None = None) -> Table:
    """Write `data`'s rows (or the given full `rows`, cut to this copy's columns)."""
    if rows is None:
        _, cut = data.stream(ctx)
    else:
        mask = data.mask_for(ctx)
        cut = (mask(r) for r in rows)
    tally.write(table, cut)
    table.finish()
    return table


def _open(book: Workbook, ctx: ExportContext, data: Dataset) -> Table:
    return book.table(data.title, ctx.keep(data.columns))


def export_ledger(session: Session, *, actor: Actor, as_of: date, path: Path | str,
                  pseudonymise: bool = False, places: Sequence[str] = (),
                  max_rows: int = EXCEL_MAX_ROWS,
                  progress: Callable[[int], None] | None = None,
                  cache_results: bool = True) -> LedgerExport:
    """Write the auditor workbook of the ledger as of `as_of` to `path`, streaming every sheet.

    `places` (gazetteer codes of provinces, districts, communes or villages) narrows it to
    their families' loans and those loans' postings: a national ledger's workbook per
    province, which a spreadsheet program can open, where the whole one could not be.
    `max_rows` (rows per sheet, header included) is Excel's limit unless a test lowers it;
    `cache_results=False` leaves formula results for the spreadsheet program to compute.
    """
    actor.require(Permission.EXPORT)
    actor, label = narrowed(session, actor, places)
    pseudonyms = Pseudonyms(pseudonym_secret(session)) if pseudonymise else None
    ctx = ExportContext(session, actor, as_of, pseudonyms, place=label)
    out = Path(path)
    with written_whole(out) as partial:
        return _export_ledger(ctx, partial, out, max_rows, progress, cache_results)


def _export_ledger(ctx: ExportContext, partial: Path, out: Path, max_rows: int,
                   progress: Callable[[int], None] | None, cache_results: bool) -> LedgerExport:
    book = Workbook(partial, max_rows=max_rows, progress=progress, cache_results=cache_results)
    tally = Tally()
    balances = trial_balance(ctx)  # one query for the sheet and every check
    currencies = sorted({row[4] for row in balances})
    try:
        summary = write_summary(book, ctx)
        loans = loans_register_sheet(book, ctx, tally)
        installments = _open(book, ctx, INSTALLMENTS)
        payments = _open(book, ctx, PAYMENTS)
        tables: list[Table] = []
        for data, table in ((INSTALLMENTS, installments), (PAYMENTS, payments)):
            _register(tally, table, currencies)
            tables.append(_write(book, tally, table, ctx, data))
        journal = _open(book, ctx, JOURNAL)
        _register(tally, journal, currencies)
        tables.append(_write(book, tally, journal, ctx, JOURNAL))
        tables.append(_write(book, tally, _open(book, ctx, GENERAL_LEDGER), ctx, GENERAL_LEDGER))
        tb = _open(book, ctx, TRIAL_BALANCE)
        _register(tally, tb, currencies)
        tables.append(_write(book, tally, tb, ctx, TRIAL_BALANCE, tb_rows(balances)))
        report_tables = [sheet(book, ctx, tally) for sheet in REPORT_SHEETS]
        checks = _checks(ctx, tally, balances, loans, installments, payments, journal, tb)
        checks_table, hold = write_checks(book, checks)
    except BaseException:
        book.discard()  # `written_whole` removes the partial file: nothing of it is kept
        raise
    book.close()
    every = [summary, loans, *tables, *[t for t in report_tables if t],
             checks_table]
    sheets = tuple(part for t in every for part in t.parts)
    return LedgerExport(out, sheets, hold, ctx.place)


def _register(tally: Tally, table: Table, currencies: list[str]) -> None:
    """Register the sums the checks need on `table`, before its rows are written."""
    for cur in currencies:
        for spec in _SPECS.get(table.title, ()):
            column, criteria = spec
            tally.sum(table, column, Criterion("Currency", cur), *criteria)


# Per table: the sums the checks use, beside the currency criterion.
_CASH = ("cash", "cash_box")
_SPECS: dict[str, tuple[tuple[str, tuple[Criterion, ...]], ...]] = {
    "Installments": (("Principal unpaid", (Criterion("Written off", "no"),)),),
    "Payments": (("Amount", (Criterion("Reversed", "no"),)),),
    "Journal": (
        ("Debit", ()), ("Credit", ()),
        *(("Debit", (Criterion("Kind", "repayment"), Criterion("Account role", role)))
           for role in _CASH),
        *(("Credit", (Criterion("Kind", "reversal"), Criterion("Reversed kind", "repayment"),
                       Criterion("Account role", role))) for role in _CASH),
    ),
    "Trial balance": (
        ("Debit", ()), ("Credit", ()),
        ("Debit", (Criterion("Role", "loan_portfolio"),)),
        ("Credit", (Criterion("Role", "loan_portfolio"),)),
    ),
}


def _find(tally: Tally, table: Table | None, column: str, *criteria: Criterion) -> Sum:
    for s in tally.sums:
        if s.table is table and s.column == column and s.criteria == criteria:
            return s
    raise LookupError(f"no sum of {column} on {table.title if table else None}")


def _checks(ctx: ExportContext, tally: Tally, balances: list[Balance], loans: Table,
            installments: Table, payments: Table, journal: Table, tb: Table) -> list[Check]:
    out: list[Check] = []
    for cur in sorted({row[4] for row in balances}):
        c = Criterion("Currency", cur)
        portfolio = sum(b for _, _, _, role, k, b, _ in balances
                        if role == "loan_portfolio" and k == cur)
        debits = sum(b for *_, k, b, _ in balances if k == cur and b > 0)
        out.append(Check("Trial balance: debits = credits", cur,
                         _find(tally, tb, "Debit", c), _find(tally, tb, "Credit", c)))
        out.append(Check("Trial balance debits = the ledger's debit balances", cur,
                         _find(tally, tb, "Debit", c), debits))
        out.append(Check("Journal: debits = credits", cur,
                         _find(tally, journal, "Debit", c), _find(tally, journal, "Credit", c)))
        pf = Criterion("Role", "loan_portfolio")
        out.append(Check("Loan portfolio on the trial balance = the ledger's portfolio", cur,
                         ((1, _find(tally, tb, "Debit", c, pf)),
                          (-1, _find(tally, tb, "Credit", c, pf))), portfolio))
        out.append(Check("Portfolio = Σ principal unpaid on Installments (not written off)",
                         cur, portfolio, _find(tally, installments, "Principal unpaid", c,
                                               Criterion("Written off", "no"))))
        paid = _find(tally, payments, "Amount", c, Criterion("Reversed", "no"))
        out.append(Check("Payments standing = the ledger's payments received", cur, paid,
                         standing_payments(ctx).get(cur, 0)))
        cash_in = tuple((1, _find(tally, journal, "Debit", c, Criterion("Kind", "repayment"),
                                  Criterion("Account role", r))) for r in _CASH)
        cash_out = tuple((-1, _find(tally, journal, "Credit", c, Criterion("Kind", "reversal"),
                                    Criterion("Reversed kind", "repayment"),
                                    Criterion("Account role", r))) for r in _CASH)
        out.append(Check("Payments standing = cash postings of repayments less reversals", cur,
                         paid, cash_in + cash_out))
        out.extend(loans_checks(ctx, tally, loans, cur, portfolio))
    return out
