"""The streaming workbook writer every xlsx export goes through.

Backed by xlsxwriter in constant-memory mode (chosen by measurement: `bench/export_writers.py`):
each row is flushed to disk as soon as the next one starts, so memory stays flat however long
the journal is. Text is always written as a string cell, never parsed as a formula, number or
link. A table that would pass Excel's row limit continues on "Title (2)", "Title (3)", ….
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from exports.cells import Amount, Cell, Formula, number_format
from ledger.money import get_currency

__all__ = [
    "EXCEL_MAX_ROWS",
    "Column",
    "PrintSetup",
    "Table",
    "Workbook",
    "sheet_ref",
]

EXCEL_MAX_ROWS = 1_048_576
PROGRESS_EVERY = 5_000
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header, width in characters, and the number format of plain numbers.
    `private` columns (names, notes, ID numbers) are left out of pseudonymised copies."""

    header: str
    width: float = 12
    num_format: str | None = None
    private: bool = False


@dataclass(frozen=True, slots=True)
class PrintSetup:
    """Page setup for a printable sheet: A4 landscape, one page wide, header row repeated."""

    header_left: str = ""
    header_center: str = ""
    landscape: bool = True


def sheet_ref(sheet: str) -> str:
    """A sheet name as formulas reference it: `'Trial balance'`."""
    return "'" + sheet.replace("'", "''") + "'"


@dataclass
class Table:
    """Rows of one table, streamed into one sheet or, past the row limit, several."""

    book: Workbook
    title: str
    columns: tuple[Column, ...]
    preamble: tuple[tuple[Cell, ...], ...] = ()
    print_setup: PrintSetup | None = None
    limit: int = EXCEL_MAX_ROWS
    parts: list[tuple[str, int]] = field(default_factory=list)  # (sheet name, data rows)
    _sheet: Any = None
    _row: int = 0
    _plain: tuple[Any, ...] = ()  # per column, the format of its plain numbers (or None)

    @property
    def header_row(self) -> int:
        """The 0-based row of the header on each sheet."""
        return len(self.preamble)

    @property
    def rows(self) -> int:
        """Data rows written so far, over every sheet."""
        return sum(n for _, n in self.parts)

    def _open(self) -> None:
        if self._sheet is not None:
            self._close_part()
        number = len(self.parts) + 1
        name = self.title if number == 1 else f"{self.title} ({number})"
        self._sheet = self.book.raw.add_worksheet(name)
        self.parts.append((name, 0))
        ws = self._sheet
        self._plain = tuple(self.book.fmt(c.num_format) if c.num_format else None
                            for c in self.columns)
        for index, col in enumerate(self.columns):
            ws.set_column(index, index, col.width)
        for r, line in enumerate(self.preamble):
            for c, value in enumerate(line):
                self.book.write(ws, r, c, value, bold=r == 0)
        for c, col in enumerate(self.columns):
            ws.write_string(self.header_row, c, col.header, self.book.fmt(bold=True, wrap=True))
        ws.freeze_panes(self.header_row + 1, 0)
        if self.print_setup is not None:
            self._apply_print(ws, self.print_setup)
        self._row = self.header_row + 1

    def _apply_print(self, ws: Any, setup: PrintSetup) -> None:
        ws.set_paper(9)  # A4
        if setup.landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(self.header_row)
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        ws.set_header(f"&L{_escape(setup.header_left)}&C{_escape(setup.header_center)}"
                      "&RPage &P of &N")

    def _close_part(self) -> None:
        count = self.parts[-1][1]
        if count and self.print_setup is None:
            self._sheet.autofilter(self.header_row, 0, self.header_row + count,
                                   len(self.columns) - 1)

    def append(self, values: Sequence[Cell]) -> None:
        """Write one data row, starting a continuation sheet at the row limit."""
        self.extend((values,))

    def extend(self, rows: Iterable[Sequence[Cell]],
               observe: Callable[[Sequence[Cell]], None] | None = None) -> None:
        """Write many rows, each seen by `observe` once written, starting continuation sheets
        at the row limit. This is the loop every cell of an export runs through, so the common
        cell types are written by exact class through the writer's undecorated methods."""
        book = self.book
        amounts, progress = book.amount_cells, book.progress
        day, stamp = book.date_format, book.fmt(DATETIME_FORMAT)
        written = book.written
        ws: Any = None
        text: Any = None
        number: Any = None
        when: Any = None
        plain: tuple[Any, ...] = ()
        values: Any  # a row's cells, dispatched on their exact class below
        row = limit = count = 0
        try:
            for values in rows:
                if ws is None or row >= limit:
                    if ws is not None:
                        self._row, self.parts[-1] = row, (self.parts[-1][0], count)
                    if self._sheet is None or self._row >= self.limit:
                        self._open()
                    ws, row, limit, plain = self._sheet, self._row, self.limit, self._plain
                    count = self.parts[-1][1]
                    text, number, when = _raw_writers(ws)
                for c, value in enumerate(values):
                    kind = value.__class__
                    if kind is str:
                        text(row, c, value)  # never a formula, number or link
                    elif kind is Amount:
                        digits, fmt = amounts(value.currency)
                        minor = value.minor
                        number(row, c, minor if digits == 0
                               else Decimal(minor).scaleb(-digits), fmt)
                    elif value is None:
                        continue
                    elif kind is int or kind is Decimal:
                        number(row, c, value, plain[c])
                    elif kind is date:
                        when(row, c, value, day)
                    elif kind is datetime:
                        when(row, c, _naive_utc(value), stamp)
                    else:
                        book.write(ws, row, c, value, num_format=_format_text(plain[c]))
                row += 1
                count += 1
                written += 1
                if observe is not None:
                    observe(values)
                if progress is not None and written % PROGRESS_EVERY == 0:
                    progress(written)
        finally:
            book.written = written
            if ws is not None:
                self._row, self.parts[-1] = row, (self.parts[-1][0], count)

    def write_after(self, lines: Iterable[Sequence[Cell]], gap: int = 1) -> None:
        """Free lines below the table on its last sheet (totals, signature lines)."""
        if self._sheet is None:
            self._open()
        self._row += gap
        for line in lines:
            for c, value in enumerate(line):
                self.book.write(self._sheet, self._row, c, value)
            self._row += 1

    def finish(self) -> None:
        """Close the table: a sheet even when empty, the autofilter on the last sheet."""
        if self._sheet is None:
            self._open()
        self._close_part()

    def ranges(self, header: str) -> list[str]:
        """Absolute references to a column's data cells on every sheet of the table, for
        formulas: `['Journal'!$L$2:$L$1048576, 'Journal (2)'!$L$2:$L$9]`."""
        index = next(i for i, c in enumerate(self.columns) if c.header == header)
        letter = xl_col_to_name(index)
        first = self.header_row + 2
        return [f"{sheet_ref(name)}!${letter}${first}:${letter}${first + max(count, 1) - 1}"
                for name, count in self.parts]


def _escape(text: str) -> str:
    return text.replace("&", "&&")


def _raw_writers(ws: Any) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """A sheet's string, number and date writers without the A1-notation wrapper the public
    ones add (the same methods they call), where this xlsxwriter has them."""
    return (getattr(ws, "_write_string", ws.write_string),
            getattr(ws, "_write_number", ws.write_number),
            getattr(ws, "_write_datetime", ws.write_datetime))


def _format_text(cell_format: Any) -> str | None:
    """The number format text a workbook format object was made from."""
    return None if cell_format is None else cell_format.num_format or None


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class Workbook:
    """An xlsx file being written. Every value goes through `write`, which picks the cell type
    from the Python type: text as text, amounts as numbers in their currency's format."""

    def __init__(self, path: Path | str, *, max_rows: int = EXCEL_MAX_ROWS,
                 progress: Callable[[int], None] | None = None,
                 cache_results: bool = True) -> None:
        if max_rows < 3:
            raise ValueError("a sheet needs room for its header and at least one row")
        self.raw = xlsxwriter.Workbook(str(path), {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": DATE_FORMAT,
            # A national ledger's workbook passes the 2 GB a plain zip container may hold,
            # and closing it failed after hours of writing. Python's zipfile writes ZIP64
            # records only where a size or offset needs them: a smaller file is unchanged.
            "use_zip64": True,
        })
        self.max_rows = max_rows
        self.progress = progress
        self.cache_results = cache_results
        self.written = 0
        self._formats: dict[tuple[str | None, bool, bool], Any] = {}
        self._amount_cells: dict[str, tuple[int, Any]] = {}
        self.date_format = self.fmt(DATE_FORMAT)

    def fmt(self, num_format: str | None = None, *, bold: bool = False,
            wrap: bool = False) -> Any:
        """A cell format, made once per workbook."""
        key = (num_format, bold, wrap)
        found = self._formats.get(key)
        if found is None:
            props: dict[str, Any] = {}
            if num_format:
                props["num_format"] = num_format
            if bold:
                props["bold"] = True
            if wrap:
                props["text_wrap"] = True
                props["valign"] = "top"
            found = self._formats[key] = self.raw.add_format(props)
        return found

    def table(self, title: str, columns: Sequence[Column], *,
              preamble: Sequence[Sequence[Cell]] = (),
              print_setup: PrintSetup | None = None, split: bool = True) -> Table:
        """Start a table on a new sheet named `title`; with `split`, rows past the workbook's
        row limit continue on "title (2)" and so on."""
        if len(title) > 27:
            raise ValueError(f"sheet title {title!r} leaves no room for a continuation number")
        return Table(self, title, tuple(columns), tuple(tuple(r) for r in preamble),
                     print_setup, self.max_rows if split else EXCEL_MAX_ROWS)

    def amount_cells(self, currency: str) -> tuple[int, Any]:
        """(digits, cell format) of amounts in `currency`, looked up once per workbook."""
        found = self._amount_cells.get(currency)
        if found is None:
            found = self._amount_cells[currency] = (
                get_currency(currency).digits, self.fmt(number_format(currency)))
        return found

    def write(self, ws: Any, row: int, col: int, value: Cell, *, num_format: str | None = None,
              bold: bool = False) -> None:
        """Write one value with the cell type its Python type calls for."""
        if value is None:
            return
        if isinstance(value, str):
            # Always a string cell: never a formula, number or link, whatever it starts with.
            ws.write_string(row, col, value, self.fmt(bold=bold) if bold else None)
        elif isinstance(value, Amount):
            ws.write_number(row, col, value.value, self.fmt(number_format(value.currency)))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, int | Decimal):
            ws.write_number(row, col, value, self.fmt(num_format) if num_format else None)
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, _naive_utc(value), self.fmt(DATETIME_FORMAT))
        elif isinstance(value, date):
            ws.write_datetime(row, col, value, self.fmt(DATE_FORMAT))
        elif isinstance(value, Formula):
            self._formula(ws, row, col, value, num_format)
        else:
            raise TypeError(f"cannot write {type(value).__name__} {value!r} to a cell")

    def _formula(self, ws: Any, row: int, col: int, value: Formula,
                 num_format: str | None) -> None:
        fmt_text = number_format(value.currency) if value.currency else num_format
        cell_format = self.fmt(fmt_text) if fmt_text else None
        cached = value.cached if self.cache_results else None
        if isinstance(cached, Amount):  # pragma: no cover - Formula.cached is never Amount
            cached = cached.value
        if isinstance(cached, bool):
            ws.write_formula(row, col, value.text, cell_format, cached)
        elif cached is None:
            ws.write_formula(row, col, value.text, cell_format, "")
        else:
            ws.write_formula(row, col, value.text, cell_format, cached)

    def close(self) -> None:
        """Finish the file on disk."""
        self.raw.close()
        if self.progress is not None:
            self.progress(self.written)

    def discard(self) -> None:
        """Give the file up after a failure: remove the sheets written so far (temporary files
        in constant-memory mode) instead of assembling them into a file nobody keeps; at a
        million loans that assembly took minutes before the failure was reported."""
        for sheet in self.raw.worksheets():
            handle, name = sheet.row_data_fh, sheet.row_data_filename
            if handle is not None:
                handle.close()
            if name:
                with suppress(FileNotFoundError):
                    os.remove(name)
        self.raw.fileclosed = True  # a later close() has nothing left to write
