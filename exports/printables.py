"""Printable workbooks: the monthly collection sheet of a village (with the blank "Collected"
column the import reads back) and one family's statement. Each holds what its report function
(`collection_sheet`, `family_statement`) returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from exports.cells import Amount, Formula
from exports.context import ExportContext
from exports.summary import is_demo
from exports.workbook import Column, PrintSetup, Workbook
from ledger.actor import Actor, Permission
from ledger.money import Money
from ledger.reports.collection import collection_sheet
from ledger.reports.family import family_id_for, family_statement

__all__ = ["COLLECTION_COLUMNS", "Printed", "export_collection_sheet", "export_family_statement"]

COLLECTION_COLUMNS = (
    Column("Family", 10), Column("Head of family", 22), Column("Latin spelling", 18),
    Column("Loan", 14), Column("Due this month", 13), Column("Arrears", 12),
    Column("To collect", 13), Column("Last paid on", 11), Column("Last paid", 12),
    Column("Collected", 13), Column("Paid on", 11), Column("Signature", 16),
)
SIGNATURE = "________________________"


@dataclass(frozen=True, slots=True)
class Printed:
    """A printable workbook written: its file and how many data rows it holds."""

    path: Path
    rows: int


def _amount(value: Money) -> Amount:
    return Amount(value.minor, value.currency.code)


def export_collection_sheet(session: Session, *, actor: Actor, village_code: str, month: str,
                            path: Path | str, as_of: date) -> Printed:
    """The village's collection sheet for `month` (YYYY-MM), A4 landscape, one page wide."""
    sheet = collection_sheet(session, actor=actor, village_code=village_code, month=month)
    demo = is_demo(ExportContext(session, actor, as_of))
    village = " / ".join(sheet.village_names) + f" ({sheet.village_code})"
    title = f"Collection sheet — {village} — {sheet.month}" + (" — DEMO" if demo else "")
    out = Path(path)
    book = Workbook(out)
    try:
        table = book.table("Collection sheet", COLLECTION_COLUMNS, preamble=(
            (title,), (f"Village {village}", None, None, f"Month {sheet.month}", None, None,
                       f"Printed {as_of}" + (" — DEMO LEDGER" if demo else ""))),
            print_setup=PrintSetup(header_left=f"Village {village}",
                                   header_center=f"{sheet.month}" + (" DEMO" if demo else "")),
            split=False)
        for r in sheet.rows:
            table.append((r.family_ref, r.family_name, r.family_name_latin, r.loan_ref,
                          _amount(r.due_this_month), _amount(r.arrears), _amount(r.to_collect),
                          r.last_paid_on, _amount(r.last_paid), None, None, None))
        first, last = table.header_row + 2, table.header_row + 1 + len(sheet.rows)
        cur = sheet.currency

        def total(letter: str, value: Money) -> Formula:
            return Formula(f"=SUM({letter}{first}:{letter}{max(last, first)})",
                           _amount(value).value, cur)

        table.write_after([
            ("Total", None, None, f"{len(sheet.rows)} loans", total("E", sheet.due_this_month),
             total("F", sheet.arrears), total("G", sheet.to_collect), None, None,
             Formula(f"=SUM(J{first}:J{max(last, first)})", None, cur)),
        ], gap=0)
        table.write_after([
            ("Treasurer", None, SIGNATURE, None, "Date", None, "____________"),
            (None,),
            ("Officer", None, SIGNATURE, None, "Date", None, "____________"),
        ], gap=2)
        table.finish()
    finally:
        book.close()
    return Printed(out, len(sheet.rows))


def export_family_statement(session: Session, *, actor: Actor, family_ref: str,
                            path: Path | str, as_of: date) -> Printed:
    """One family's statement: its loans, their installments and every money line."""
    actor.require(Permission.EXPORT)
    statement = family_statement(session, actor=actor, family_id=family_id_for(session,
                                                                                 family_ref),
                                 as_of=as_of)
    demo = is_demo(ExportContext(session, actor, as_of))
    who = statement.head_name + (f" ({statement.head_name_latin})"
                                 if statement.head_name_latin else "")
    heading = (f"Family statement — {statement.family_ref} {who} — {statement.village} — "
               f"as of {as_of}" + (" — DEMO" if demo else ""))
    setup = PrintSetup(header_left=f"{statement.family_ref} {who}",
                       header_center=f"as of {as_of}" + (" DEMO" if demo else ""))
    out = Path(path)
    book = Workbook(out)
    rows = 0
    try:
        loans = book.table("Loans", (
            Column("Loan", 14), Column("Disbursed on", 11), Column("Principal", 13),
            Column("Status", 12), Column("Outstanding principal", 13),
            Column("Interest due", 12), Column("Overdue", 12), Column("Days late", 8, "0"),
            Column("Next due date", 11), Column("Next due amount", 13),
            Column("Payoff today", 13)), preamble=((heading,),), print_setup=setup, split=False)
        for ls in statement.loans:
            s = ls.status
            loans.append((s.ref, s.disbursed_on, _amount(s.principal), str(s.status),
                          _amount(s.outstanding_principal), _amount(s.interest_due),
                          _amount(s.overdue), s.days_overdue, s.next_due_date,
                          _amount(s.next_due_amount), _amount(s.payoff)))
        loans.finish()
        installments = book.table("Installments", (
            Column("Loan", 14), Column("No.", 5, "0"), Column("Due date", 11),
            Column("Principal", 12), Column("Interest", 11), Column("Fees", 10),
            Column("Total", 12), Column("Paid", 12), Column("Outstanding", 12)),
            preamble=((heading,),), print_setup=setup, split=False)
        lines = book.table("Money lines", (
            Column("Loan", 14), Column("Date", 11), Column("Seq", 7, "0"), Column("Kind", 12),
            Column("Cash", 12), Column("Principal", 12), Column("Interest", 11),
            Column("Fees", 10), Column("Principal owed after", 14)),
            preamble=((heading,),), print_setup=setup, split=False)
        for ls in statement.loans:
            for i in ls.installments:
                installments.append((ls.status.ref, i.number, i.due_date, _amount(i.principal),
                                     _amount(i.interest), _amount(i.fees), _amount(i.total),
                                     _amount(i.paid), _amount(i.outstanding)))
                rows += 1
            for m in ls.lines:
                lines.append((ls.status.ref, m.on, m.seq, m.kind, _amount(m.cash),
                              _amount(m.principal), _amount(m.interest), _amount(m.fees),
                              _amount(m.balance)))
                rows += 1
        installments.finish()
        lines.finish()
    finally:
        book.close()
    return Printed(out, rows + len(statement.loans))
