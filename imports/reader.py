"""Reading an import file into header + rows of raw cell values, refusing what is not a table.

`.xlsx` is read with python-calamine (fast) after checks python-calamine cannot make: the file's
size and real type (magic bytes: an old `.xls` and a password-protected workbook are both OLE
compound files; a renamed `.docx` is a zip without a workbook), formula cells and merged cells
(both found in the sheet's XML). `.csv` must be UTF-8, with or without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from imports.collector import paused
from imports.problems import MAX_FILE_BYTES, FileRefused, Problem

__all__ = ["Sheet", "column_letter", "read_table"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted (password-protected) OOXML file is an OLE container holding this stream.
ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")
# Refuse zips that would inflate beyond this (a "zip bomb" or a workbook far too big).
MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
SKIPPED_SHEETS = ("instructions", "lists")
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


class Sheet:
    """A table as read: its headers, its non-blank rows numbered as the officer sees them
    (the header is row 1), and problems found in the layout (formulas, merged cells). A
    workbook's sheet is kept as columns, its `rows` made only when asked for."""

    __slots__ = ("_columns", "_rows", "headers", "name", "problems")

    def __init__(self, name: str, headers: tuple[str, ...],
                 rows: tuple[tuple[int, tuple[Any, ...]], ...] = (),
                 problems: tuple[Problem, ...] = (), *,
                 columns: tuple[list[int], list[list[Any]]] | None = None) -> None:
        self.name, self.headers, self.problems = name, headers, problems
        self._rows = rows if columns is None else None
        self._columns = columns

    @property
    def rows(self) -> tuple[tuple[int, tuple[Any, ...]], ...]:
        """(row number, cells of the header's columns) of every row holding a value."""
        if self._rows is None:
            assert self._columns is not None
            numbers, columns = self._columns
            self._rows = tuple(zip(numbers, zip(*columns, strict=True), strict=True))
        return self._rows

    def columns(self) -> tuple[list[int], list[list[Any]]] | None:
        """The row numbers and each header column's cells (those of `rows`, a column at a
        time) when the sheet was read so; else None."""
        return self._columns


def column_letter(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index (0 → A, 27 → AB)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def _letter_index(letters: str) -> int:
    index = 0
    for ch in letters:
        if not "A" <= ch <= "Z":
            return -1
        index = index * 26 + ord(ch) - 64
    return index - 1


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(name: str, grid: list[list[Any]], problems: list[Problem]) -> Sheet:
    if not grid or all(_blank(v) for v in grid[0]):
        raise FileRefused(f"sheet {name!r} has no header row: the first row must name the "
                          "columns (download a template with `fsf import template`)")
    headers = [("" if _blank(v) else str(v).strip()) for v in grid[0]]
    while headers and not headers[-1]:
        headers.pop()
    def named(p: Problem) -> Problem:  # a column letter becomes the column's header
        index = _letter_index(p.column) if p.column else -1
        if 0 <= index < len(headers) and headers[index]:
            return Problem(p.row, headers[index], p.value, p.message)
        return p

    problems = [named(p) for p in problems]
    width = len(headers)
    body = grid[1:]
    columns = _blanked_columns(body, width)
    if columns is not None:
        if any(None not in column for column in columns):
            # A column without a blank cell: no row is all blank, every row is kept.
            return Sheet(name, tuple(headers), problems=tuple(problems),
                         columns=(list(range(2, len(body) + 2)), columns))
        # Rows back from the blanked columns; a row of nothing but blanks is left out.
        return Sheet(name, tuple(headers), tuple(
            (number, values) for number, values in enumerate(zip(*columns, strict=True),
                                                             start=2)
            if values.count(None) != width), tuple(problems))
    pad = (None,) * width
    rows = []
    for number, cells in enumerate(body, start=2):
        # Inline rather than through _blank(): this runs once per cell of the file.
        values = tuple([None if v is None or (isinstance(v, str) and (not v or v.isspace()))
                        else v for v in cells[:width]])
        if values.count(None) != len(values):
            rows.append((number, values + pad[len(values):] if len(values) < width
                         else values))
    return Sheet(name, tuple(headers), tuple(rows), tuple(problems))


def _blanked_columns(body: list[list[Any]], width: int) -> list[list[Any]] | None:
    """The first `width` columns of a grid whose rows all reach that width, with every
    blank cell (empty or white-space text) made None; None for a ragged grid. A column is
    judged at once, so a sheet is not walked cell by cell in Python."""
    if not body or width == 0 or min(map(len, body)) < width:
        return None
    out: list[list[Any]] = []
    for column in islice(zip(*body, strict=False), width):
        classes = set(map(type, column))
        if str not in classes:  # only text can be blank (None already is)
            out.append(list(column))
            continue
        if classes == {str} and all(map(str.strip, column)):  # text, none of it blank
            out.append(list(column))
            continue
        try:
            blanks = {v for v in set(column) if _blank(v)}
        except TypeError:  # an unhashable cell (never from the readers): row by row
            return None
        out.append([None if v in blanks else v for v in column] if blanks else list(column))
    return out


def _check_file(path: Path) -> bytes:
    if not path.is_file():
        raise FileRefused(f"there is no file at {path}")
    size = path.stat().st_size
    if size == 0:
        raise FileRefused(f"{path.name} is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise FileRefused(f"{path.name} is {size / 1024 / 1024:.1f} MB; the limit is "
                          f"{MAX_FILE_BYTES // 1024 // 1024} MB: split it into smaller files")
    with path.open("rb") as fh:
        return fh.read(8)


def read_table(path: Path, kind: str) -> Sheet:
    """Read the table for `kind` from an .xlsx or .csv file; raises `FileRefused`."""
    with paused():
        return _read_table(path, kind)


def _read_table(path: Path, kind: str) -> Sheet:
    head = _check_file(path)
    suffix = path.suffix.lower()
    if head.startswith(OLE_MAGIC):
        if ENCRYPTED_MARK in path.read_bytes():
            raise FileRefused(f"{path.name} is protected by a password: open it in Excel, "
                              "remove the password (File > Info > Protect Workbook) and save it "
                              "again as .xlsx")
        raise FileRefused(f"{path.name} is an old Excel 97-2003 (.xls) file: open it in Excel "
                          "and save it as .xlsx (Excel Workbook)")
    if head.startswith(b"PK"):
        if suffix not in (".xlsx", ".xlsm"):
            raise FileRefused(f"{path.name} is a zip file, not a {suffix or 'text'} file: "
                              "import .xlsx workbooks or .csv files")
        return _read_xlsx(path, kind)
    if suffix in (".xlsx", ".xlsm"):
        raise FileRefused(f"{path.name} is not an Excel workbook (it is damaged, or another "
                          "kind of file renamed .xlsx): save it from Excel as .xlsx")
    if suffix == ".xls":
        raise FileRefused(f"{path.name} is not a readable .xls file: save it as .xlsx")
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise FileRefused(f"{path.name}: {suffix or 'files without an extension'} cannot be "
                      "imported; use an .xlsx workbook or a .csv file")


def _read_csv(path: Path) -> Sheet:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{path.name} is not UTF-8 text (byte {exc.start}): in Excel save as "
                          "'CSV UTF-8 (Comma delimited)'") from exc
    if "\x00" in text:
        raise FileRefused(f"{path.name} is not a text file: import .xlsx or .csv")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        grid = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise FileRefused(f"{path.name} is not a readable CSV file: {exc}") from exc
    return _table(path.name, grid, [])


def _sheet_targets(book: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, XML path inside the zip) of every worksheet, in workbook order."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels_path = "xl/_rels/workbook.xml.rels"
    rels = ElementTree.fromstring(book.read(rels_path)) if rels_path in book.namelist() else None
    targets = {}
    if rels is not None:
        for rel in rels.findall("rel:Relationship", _NS):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[rel.get("Id")] = target
    out = []
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        rid = sheet.get(f"{{{_NS['r']}}}id")
        out.append((sheet.get("name", ""), targets.get(rid, "")))
    return out


def _choose(sheets: list[tuple[str, str]], kind: str, name: str) -> tuple[str, str]:
    if not sheets:
        raise FileRefused(f"{name} holds no worksheet")
    for sheet, target in sheets:
        if sheet.strip().lower() == kind:
            return sheet, target
    data = [s for s in sheets if s[0].strip().lower() not in SKIPPED_SHEETS]
    if len(data) == 1:
        return data[0]
    names = ", ".join(repr(s) for s, _ in sheets)
    raise FileRefused(f"{name} has sheets {names} but none is called {kind!r}: rename the "
                      f"sheet that holds the {kind}")


def _formula_xml(book: zipfile.ZipFile, target: str) -> bytes:
    """The sheet's XML when it may hold a formula cell, else b"": streamed and searched a
    megabyte at a time, so a sheet of plain values is never held whole in memory."""
    tail = b""
    with book.open(target) as sheet:
        while block := sheet.read(1 << 20):
            chunk = tail + block
            # `<f` or a prefixed `<x:f`: cheap byte searches first, the regex only on a hit.
            if (b"<f" in chunk or b":f" in chunk) and _FORMULA.search(chunk):
                return book.read(target)
            tail = chunk[-32:]
    return b""


class _FormulaScan(threading.Thread):
    """`_formula_xml` of one sheet, run beside the reader: the XML (or b"") or the error."""

    def __init__(self, path: Path, target: str) -> None:
        super().__init__(name="formula-scan", daemon=True)
        self.path, self.target = path, target
        self.xml: bytes = b""
        self.error: BaseException | None = None

    def run(self) -> None:
        if not self.target:
            return
        try:
            with zipfile.ZipFile(self.path) as book:
                self.xml = _formula_xml(book, self.target)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self.error = exc


def _formula_problems(xml: bytes) -> list[Problem]:
    if not xml or not _FORMULA.search(xml):
        return []
    out = []
    for _, elem in ElementTree.iterparse(io.BytesIO(xml)):
        if elem.tag == f"{{{_NS['m']}}}c":
            if elem.find("m:f", _NS) is not None:
                ref = elem.get("r", "")
                match = _CELL_REF.match(ref)
                row = int(match.group(2)) if match else None
                value = elem.findtext("m:v", default="", namespaces=_NS)
                out.append(Problem(row, match.group(1) if match else None, value,
                                   f"cell {ref} holds a formula: copy the column and paste it "
                                   "back as values (Paste Special > Values)"))
            elem.clear()
    return out


def _read_xlsx(path: Path, kind: str) -> Sheet:
    import python_calamine

    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            if "xl/workbook.xml" not in names:
                what = ("a Word document" if "word/document.xml" in names else
                        "a PowerPoint file" if "ppt/presentation.xml" in names else
                        "not an Excel workbook")
                raise FileRefused(f"{path.name} is {what}, renamed .xlsx: import the Excel "
                                  "workbook itself")
            if sum(i.file_size for i in book.infolist()) > MAX_UNZIPPED_BYTES:
                raise FileRefused(f"{path.name} unpacks to more than "
                                  f"{MAX_UNZIPPED_BYTES // 1024 // 1024} MB: split it")
            name, target = _choose(_sheet_targets(book), kind, path.name)
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError) as exc:
        raise FileRefused(f"{path.name} is damaged and cannot be read as a workbook: "
                          f"{exc}") from exc
    # The formula search unzips the sheet in a thread while python-calamine reads it (both
    # let go of the interpreter lock meanwhile); its refusal still comes first, as it did
    # when it ran before the read.
    scan = _FormulaScan(path, target if target in names else "")
    scan.start()
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_name(name)
        grid = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
        unreadable = None
    except Exception as exc:  # the reader's own errors have no common base class
        unreadable = exc
    finally:
        scan.join()
    if scan.error is not None:
        if isinstance(scan.error, (zipfile.BadZipFile, ElementTree.ParseError, KeyError)):
            raise FileRefused(f"{path.name} is damaged and cannot be read as a workbook: "
                              f"{scan.error}") from scan.error
        raise scan.error
    problems = _formula_problems(scan.xml)
    if unreadable is not None:
        raise FileRefused(f"{path.name} cannot be read as a workbook: "
                          f"{unreadable}") from unreadable
    for (r1, c1), (r2, c2) in merged:
        span = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
        problems.append(Problem(r1 + 1, column_letter(c1), span,
                                f"cells {span} are merged: unmerge them (Home > Merge & Center) "
                                "and give every row its own value"))
    return _table(name, grid, problems)
