"""`fsf report register` written out as the register is read, so that a national register (a
million loans) never sits in memory whole: the rows as objects took 2.6 GB there.

The JSON is written a row at a time and is the same text `json.dumps` gives for the whole
object. The table needs every row before its column widths are known, so it keeps each
row as one short string until the end (about 250 bytes a row)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import TextIO

from ledger.reports import LoanRow
from ledger.reports import json as js
from tui.commands.text_table import rule, table_line

__all__ = ["HEADINGS", "write_register", "write_register_json", "write_register_text"]

HEADINGS = ("Loan", "Family", "Village", "Disbursed", "Principal", "Outstanding", "Overdue",
            "Days", "Status")
_RIGHT = frozenset({4, 5, 6, 7})
_SEP = "\x00"  # between a row's cells while it waits: no name or ref can hold it


def write_register(rows: Iterable[LoanRow], as_of: date, *, as_json: bool, out: TextIO) -> None:
    """`fsf report register`: the rows as one JSON object, or as a table."""
    if as_json:
        write_register_json(rows, as_of, out)
    else:
        write_register_text(rows, out)


def write_register_json(rows: Iterable[LoanRow], as_of: date, out: TextIO) -> None:
    """The register as one JSON object (`ledger.reports.json.register_json`), row by row."""
    out.write(json.dumps({"as_of": js.day(as_of)}, ensure_ascii=False)[:-1] + ', "loans": [')
    first = True
    for r in rows:
        out.write(("" if first else ", ") + json.dumps(js.loan_row_json(r), ensure_ascii=False))
        first = False
    out.write("]}\n")


def _cells(r: LoanRow) -> list[str]:
    return [r.ref, r.family_ref, r.village_name, r.disbursed_on.isoformat(), str(r.principal),
            str(r.outstanding_principal), str(r.overdue), f"{r.days_overdue:,}",
            r.status.replace("_", " ")]


def write_register_text(rows: Iterable[LoanRow], out: TextIO) -> None:
    """The register as a table with a heading and a rule, columns as wide as their widest
    cell; "No loan disbursed by then." when it is empty."""
    widths = [len(h) for h in HEADINGS]
    kept: list[str] = []
    for r in rows:
        row = [c.replace(_SEP, "") for c in _cells(r)]
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        kept.append(_SEP.join(row))
    if not kept:
        out.write("No loan disbursed by then.\n")
        return
    out.write(table_line(HEADINGS, widths, _RIGHT) + "\n" + rule(widths) + "\n")
    for n, row in enumerate(kept):
        out.write(table_line(row.split(_SEP), widths, _RIGHT) + "\n")
        kept[n] = ""  # each row's text goes as it is printed
