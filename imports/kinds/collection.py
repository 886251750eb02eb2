"""`collection`: a village's monthly collection sheet (as `fsf export collection` writes it)
filled in by hand. Every row with an amount under "Collected" is a repayment of that row's
loan, checked and posted exactly as the `repayments` kind does; its ref is derived from the
village, the month and the loan, so importing the same sheet again changes nothing."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from imports import cells, reader
from imports.columns import Column, ParsedRow, normalise
from imports.kinds import repayments
from imports.kinds.common import fetch_in
from imports.preview import Checked, Context, Progress
from imports.problems import CellError, FileRefused, Problem
from ledger.db.tables import core_table
from ledger.services.bulk import NewRepayment

__all__ = ["COLUMNS", "check", "commit", "payment_ref", "read_table"]

VILLAGE, MONTH = "village_code", "month"
COLUMNS = (
    Column("Family", max_length=40, help="Printed: the family's ref."),
    Column("Head of family", help="Printed."),
    Column("Latin spelling", help="Printed."),
    Column("Loan", required=True, max_length=40, example="L0001",
           help="Printed: the loan the money repays."),
    Column("Due this month", help="Printed."),
    Column("Arrears", help="Printed."),
    Column("To collect", help="Printed."),
    Column("Last paid on", help="Printed."),
    Column("Last paid", help="Printed."),
    Column("Collected", required=True, max_length=40, example="15,800",
           help="Filled in: the amount received, in the loan's currency."),
    Column("Paid on", "date", required=True, example="2009-06-15",
           help="Filled in: the day the money was received."),
    Column("Signature", help="Signed on paper; not read."),
    Column(VILLAGE, required=True, help="Read from the sheet's heading."),
    Column(MONTH, required=True, help="Read from the sheet's heading."),
)
# repayments' columns → this sheet's headers, so problems name what the officer sees.
_HEADER = {"payment_ref": "Loan", "loan_ref": "Loan", "amount": "Collected",
           "currency": "Collected", "paid_on": "Paid on"}
_FILLED = ("payment_ref", "loan_ref", "paid_on", "amount", "currency")
_VILLAGE_CELL = re.compile(r"^Village .*\((\w+)\)\s*$")
_MONTH_CELL = re.compile(r"^Month (\d{4}-\d{2})\s*$")


def payment_ref(village_code: str, month: str, loan_ref: str) -> str:
    """The repayment ref of one sheet row: village, month and loan (hashed when too long)."""
    ref = f"C{village_code}-{month}-{loan_ref}"
    if len(ref) <= 60:
        return ref
    return f"C{village_code}-{month}-" + hashlib.sha256(loan_ref.encode()).hexdigest()[:20]


def _grid(path: Path, kind: str) -> tuple[str, list[list[Any]], list[Problem]]:
    import python_calamine

    head = reader._check_file(path)
    if not head.startswith(b"PK") or path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise FileRefused(f"{path.name} is not a collection sheet: import the .xlsx workbook "
                          "`fsf export collection` wrote, filled in")
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            if "xl/workbook.xml" not in names:
                raise FileRefused(f"{path.name} is not an Excel workbook")
            name, target = reader._choose(reader._sheet_targets(book), kind, path.name)
            xml = book.read(target) if target in names else b""
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
        grid = sheet.to_python(skip_empty_area=False)
    except FileRefused:
        raise
    except Exception as exc:  # zip, XML and the reader's own errors share no base class
        raise FileRefused(f"{path.name} cannot be read as a workbook: {exc}") from exc
    return name, grid, reader._formula_problems(xml)


def read_table(path: Path, kind: str) -> reader.Sheet:
    """The sheet's filled rows under its header row, each carrying the village and month of
    the heading; the heading, the totals row and the signature lines are skipped."""
    name, grid, formulas = _grid(path, kind)
    village = month = None
    number = -1
    for at, line in enumerate(grid):
        keys = [normalise(str(v)) if v is not None else "" for v in line]
        if "loan" in keys and "collected" in keys:
            number = at
            break
        for value in line:
            text = str(value or "")
            village = (m.group(1) if (m := _VILLAGE_CELL.match(text)) else village)
            month = (m.group(1) if (m := _MONTH_CELL.match(text)) else month)
    else:
        raise FileRefused(f"{path.name} has no row headed Loan … Collected … Paid on: import "
                          "the collection sheet `fsf export collection` wrote")
    if village is None or month is None:
        raise FileRefused(f"{path.name} lost its heading (the 'Village … (code)' and "
                          "'Month YYYY-MM' cells above the table): export the sheet again")
    headers = tuple("" if v is None else str(v).strip() for v in grid[number])
    wanted = {normalise("Collected"), normalise("Paid on")}
    filled = [i for i, h in enumerate(headers) if normalise(h) in wanted]
    rows = []
    for index in range(number + 1, len(grid)):
        line = list(grid[index]) + [None] * (len(headers) - len(grid[index]))
        first = str(line[0] or "").strip().lower()
        if first == "total":
            break
        values = tuple(None if v is None or (isinstance(v, str) and not v.strip()) else v
                       for v in line[:len(headers)])
        if any(values[i] is not None for i in filled):
            rows.append((index + 1, (*values, village, month)))
    data = {n for n, _ in rows}
    return reader.Sheet(name, (*headers, VILLAGE, MONTH), tuple(rows),
                        tuple(p for p in formulas if p.row in data))


def _loans(ctx: Context, refs: list[str]) -> dict[str, tuple[str, str]]:
    """loan ref → (its currency, its family's village code)."""
    ln, fam, v = core_table("loan"), core_table("family"), core_table("village")
    query = (sa.select(ln.c.ref, ln.c.currency, v.c.code)
             .select_from(ln.join(fam, fam.c.id == ln.c.family_id)
                          .join(v, v.c.id == fam.c.village_id)))
    return {str(r[0]): (str(r[1]), str(r[2])) for r in fetch_in(ctx.session, query, ln.c.ref,
                                                                 refs)}


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Turn each filled row into a repayment and check it as the `repayments` kind does, plus
    that the loan belongs to the sheet's village."""
    loans = _loans(ctx, [r.get("Loan") for r in rows if r.get("Loan")])
    outer = Checked()
    payments: list[ParsedRow] = []
    for row in rows:
        loan, village, month = row.get("Loan"), row.get(VILLAGE), row.get(MONTH)
        if loan is None:
            continue
        ref = payment_ref(str(village), str(month), loan)
        outer.refs[row.number] = ref
        if not row.ok:
            continue
        currency, home = loans.get(loan, ("KHR", village))
        if home != village:
            outer.problems.append(Problem(row.number, "Loan", loan, (
                f"loan {loan} belongs to a family of village {home}, not {village}: this row "
                "is on the wrong sheet")))
            continue
        try:
            amount = cells.as_amount(row.raw["Collected"], currency)
        except CellError as exc:
            outer.problems.append(Problem(row.number, "Collected",
                                          cells.shown(row.raw["Collected"]), str(exc)))
            continue
        values = {"payment_ref": ref, "loan_ref": loan, "paid_on": row.get("Paid on"),
                  "amount": amount, "currency": amount.currency.code}
        payments.append(ParsedRow(row.number, values, dict(values)))
    inner = repayments.check(payments, ctx, set(_FILLED))
    outer.status.update(inner.status)
    outer.problems.extend(Problem(p.row, _HEADER.get(p.column or "", p.column), p.value,
                                  p.message) for p in inner.problems)
    outer.plan = inner.plan
    return outer


def commit(plan: list[NewRepayment], ctx: Context, progress: Progress) -> int:
    """Post the collected payments through the `repayments` kind's bulk path."""
    return repayments.commit(plan, ctx, progress)
