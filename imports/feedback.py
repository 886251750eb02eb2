"""The feedback workbook: the officer's rows copied back with a `status` and a `message`
column, so the file can be corrected where it stands and imported again."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from imports.columns import FEEDBACK_COLUMNS, normalise
from imports.preview import ImportPreview, ImportResult
from imports.problems import FileRefused
from imports.reader import read_table

__all__ = ["default_feedback_path", "write_feedback"]


def default_feedback_path(path: Path) -> Path:
    """`FILE.feedback.xlsx` beside the imported file."""
    return path.with_name(f"{path.stem}.feedback.xlsx")


def _cell(value: Any) -> Any:
    if isinstance(value, (int, float, date, datetime)) and not isinstance(value, bool):
        return value
    return "" if value is None else str(value)


def write_feedback(outcome: ImportPreview | ImportResult, out: Path) -> Path:
    """Write the annotated copy; rows the commit created are marked "imported"."""
    import xlsxwriter

    preview = outcome.preview if isinstance(outcome, ImportResult) else outcome
    committed = isinstance(outcome, ImportResult) and outcome.committed
    problems = outcome.problems
    try:
        from imports.api import KINDS  # a kind may read its file its own way

        sheet = getattr(KINDS.get(preview.kind), "read_table", read_table)(preview.path,
                                                                           preview.kind)
    except FileRefused:
        sheet = None
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    try:
        bold = book.add_format({"bold": True})
        red = book.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        data = book.add_worksheet(preview.sheet[:31] or preview.kind)
        if sheet is not None:
            keep = [i for i, h in enumerate(sheet.headers)
                    if normalise(h) not in {normalise(n) for n in FEEDBACK_COLUMNS}]
            headers = ["status", "message", *(sheet.headers[i] for i in keep)]
            data.write_row(0, 0, headers, bold)
            status = {r.row: r for r in preview.rows}
            for n, (number, values) in enumerate(sheet.rows, start=1):
                row = status.get(number)
                text = row.status if row else ""
                if committed and text == "new":
                    text = "imported"
                data.write(n, 0, text, red if text == "error" else None)
                data.write(n, 1, row.message if row else "")
                for c, i in enumerate(keep, start=2):
                    value = _cell(values[i] if i < len(values) else None)
                    fmt = day if isinstance(value, (date, datetime)) else None
                    data.write(n, c, value, fmt)
            data.freeze_panes(1, 0)
            data.set_column(1, 1, 60)
        general = book.add_worksheet("Problems")
        general.write_row(0, 0, ["row", "column", "value", "message"], bold)
        for n, p in enumerate(problems, start=1):
            general.write_row(n, 0, ["" if p.row is None else p.row, p.column or "", p.value,
                                     p.message])
        general.set_column(3, 3, 100)
    finally:
        book.close()
    return out
