"""Column specifications and turning a sheet's rows into typed values, problem by problem.

Headers match case-insensitively, ignoring spaces, underscores and hyphens ("Family Ref" is
`family_ref`). A missing required column stops the import before any row is read; an unknown
column is reported (it could be a misspelt optional one whose values would otherwise be lost).
`status` and `message`, the columns a feedback workbook adds, are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from imports import cells
from imports.collector import paused
from imports.problems import CellError, Problem
from imports.reader import Sheet

__all__ = ["FEEDBACK_COLUMNS", "Column", "ParsedRow", "ParsedTable", "match_headers", "normalise",
           "parse_rows", "parse_table"]

FEEDBACK_COLUMNS = ("status", "message")
TYPES = ("text", "amount", "date", "whole", "rate", "choice", "currency")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an import: its name, type, whether it is required, and how to fill it."""

    name: str
    type: str = "text"
    required: bool = False
    help: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 10**6
    max_length: int = 200

    def parse(self, value: Any, currency: str = "KHR") -> Any:
        """The cell as this column's type, or `CellError`."""
        if self.type == "amount":
            return cells.as_amount(value, currency)
        if self.type == "date":
            return cells.as_date(value)
        if self.type == "whole":
            return cells.as_whole(value, minimum=self.minimum, maximum=self.maximum)
        if self.type == "rate":
            return cells.as_rate(value)
        if self.type in ("choice", "currency"):
            return cells.as_choice(value, self.choices)
        return cells.as_text(value, max_length=self.max_length)


@dataclass(slots=True)
class ParsedRow:
    """One data row: typed `values` of the cells that parsed, the `raw` cells as read, and
    whether every cell parsed (`ok`)."""

    number: int
    values: dict[str, Any]
    raw: dict[str, Any]
    ok: bool = True
    problems: list[Problem] = field(default_factory=list)

    def get(self, name: str, default: Any = None) -> Any:
        """A typed value, or `default` when the cell was blank or wrong."""
        return self.values.get(name, default)


def normalise(header: str) -> str:
    """The matching key of a header: lower case without spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", header.casefold())


def match_headers(sheet: Sheet, columns: Sequence[Column], kind: str
                  ) -> tuple[dict[int, Column], list[Problem], bool]:
    """Map header positions to columns; problems for unknown, repeated and missing columns,
    and whether the rows can be read at all (False when a required column is missing)."""
    known = {normalise(c.name): c for c in columns}
    ignored = {normalise(n) for n in FEEDBACK_COLUMNS}
    mapping: dict[int, Column] = {}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(sheet.headers):
        key = normalise(header)
        if not key or key in ignored:
            continue
        column = known.get(key)
        if column is None:
            problems.append(Problem(1, header, header, (
                f"unknown column {header!r} for {kind}; the columns are: "
                + ", ".join(c.name for c in columns) + ". Rename or delete it")))
            continue
        if column.name in seen:
            problems.append(Problem(1, header, header, (
                f"column {column.name} appears twice (also as {seen[column.name]!r}); "
                "keep one")))
            continue
        seen[column.name] = header
        mapping[index] = column
    missing = [c.name for c in columns if c.required and c.name not in seen]
    for name in missing:
        problems.append(Problem(1, name, "", (
            f"required column {name} is missing from sheet {sheet.name!r}: add it (headers "
            "are in the first row; `fsf import template` writes them)")))
    return mapping, problems, not missing


class _Bad:
    """A cell value's parse error, remembered like a parsed value."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _Typer:
    """One column's parser remembering each distinct cell it has read: a file repeats its
    loan refs, dates, amounts and names, and parsing is a pure function of the cell (and the
    currency, for amounts). A cell is remembered by its class and value, so 1, 1.0 and True
    stay apart; a float zero is parsed every time (-0.0 and 0.0 are equal but not alike)."""

    __slots__ = ("column", "memo")

    def __init__(self, column: Column) -> None:
        self.column = column
        self.memo: dict[tuple[Any, ...], Any] = {}

    def __call__(self, value: Any, currency: str) -> Any:
        key = (value.__class__, value, currency)
        try:
            return self.memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable cell: parsed, never remembered
            return self._parse(value, currency)
        out = self._parse(value, currency)
        if not (value.__class__ is float and value == 0):
            self.memo[key] = out
        return out

    def _parse(self, value: Any, currency: str) -> Any:
        try:
            return self.column.parse(value, currency)
        except CellError as exc:
            return _Bad(str(exc))


def _typed_column(typer: _Typer, cells_: Sequence[Any], currencies: Sequence[str]
                  ) -> tuple[list[Any], bool]:
    """Every cell of one column typed, and whether all of them parsed (none blank or wrong):
    each distinct (class, value, currency) parsed once; blank cells stay None. Columns with a
    float zero or an unhashable cell go cell by cell."""
    try:
        if 0.0 not in cells_:  # also finds -0.0, 0 and False: all go the careful way
            classes = set(map(type, cells_))
            if classes == {str} and typer.column.type == "text":
                texts = _texts(cells_, typer.column.max_length)
                if texts is not None:
                    return texts, True
            if len(classes) == 1 and (typer.column.type != "amount"
                                      or len(set(currencies)) == 1):
                # One class of cell, one currency (or none needed): the value is the key.
                currency = currencies[0] if currencies else "KHR"
                typed = {v: (None if v is None else typer._parse(v, currency))
                         for v in dict.fromkeys(cells_)}
                return [typed[v] for v in cells_], _all_parsed(typed.values())
            keys = list(zip(map(type, cells_), cells_, currencies, strict=True))
            done = {k: (None if k[1] is None else typer._parse(k[1], k[2]))
                    for k in dict.fromkeys(keys)}
            return [done[k] for k in keys], _all_parsed(done.values())
    except TypeError:
        pass
    out = [None if v is None else typer(v, c) for v, c in zip(cells_, currencies, strict=True)]
    return out, _all_parsed(out)


def _texts(cells_: Sequence[str], max_length: int) -> list[str] | None:
    """A column of text cells as `cells.as_text` reads each, judged at once: every cell
    stripped, none holding a control character, none too long; None when one is refused
    (the caller then reads them one by one, for that cell's message)."""
    texts = list(map(str.strip, cells_))
    if max(map(len, texts), default=0) > max_length or cells.has_control("".join(texts)):
        return None
    return texts


def _all_parsed(values: Iterable[Any]) -> bool:
    return not any(v is None or v.__class__ is _Bad for v in values)


def parse_rows(sheet: Sheet, mapping: dict[int, Column]) -> list[ParsedRow]:
    """Every data row parsed cell by cell; each bad or missing required cell is a problem.
    Typed a column at a time (a file repeats its values); only the columns holding a blank
    or a wrong cell are looked at row by row."""
    with paused():
        return _parse_table(sheet, mapping).rows()


def parse_table(sheet: Sheet, mapping: dict[int, Column]) -> ParsedTable:
    """The rows `parse_rows` gives, kept a column at a time: a checker that reads columns
    need not build a row object per line of the file."""
    with paused():
        return _parse_table(sheet, mapping)


class ParsedTable:
    """Parsed rows as columns: the row `numbers`, each column's typed cells (None when blank
    or wrong) and raw cells, which rows parsed whole (`ok`), and their `problems` in row
    order. `rows()` and `row(i)` give the `ParsedRow`s `parse_rows` gives."""

    __slots__ = ("_bad", "_full", "_partial", "_problems", "_raw", "_rows", "_typed", "names",
                 "numbers")

    def __init__(self, numbers: list[int], names: list[str], raw: list[Sequence[Any]],
                 typed: list[list[Any]], full: list[int],
                 problems: dict[int, list[Problem]]) -> None:
        self.numbers, self.names = numbers, names
        self._raw, self._typed, self._full = raw, typed, full  # raw and typed: columns
        self._partial = [n for n in range(len(names)) if n not in full]
        self._problems = problems  # row index → that row's problems, column order
        self._bad = {r for r, found in problems.items() if found}
        self._rows: list[ParsedRow] | None = None

    @classmethod
    def of_rows(cls, rows: list[ParsedRow], names: Iterable[str]) -> ParsedTable:
        """Rows already parsed, seen as columns of `names` (the rows themselves are kept)."""
        names = list(names)
        table = cls([r.number for r in rows], names, [],
                    [[r.values.get(name) for r in rows] for name in names], [],
                    {n: list(r.problems) for n, r in enumerate(rows) if not r.ok})
        table._bad = {n for n, r in enumerate(rows) if not r.ok}
        table._rows = rows
        return table

    @property
    def clean(self) -> bool:
        """Whether every cell of every row parsed (no row has a problem)."""
        return not self._bad

    @property
    def problems(self) -> list[Problem]:
        """Every row's problems, row by row."""
        return [p for r in sorted(self._problems) for p in self._problems[r]]

    def ok(self, index: int) -> bool:
        """Whether row `index` (0-based) parsed whole."""
        return index not in self._bad

    def column(self, name: str) -> list[Any]:
        """The typed cells of a column, None where blank or wrong (as `ParsedRow.get`)."""
        if name not in self.names:
            return [None] * len(self.numbers)
        n = self.names.index(name)
        col = self._typed[n]
        if n in self._full:
            return col
        return [None if v.__class__ is _Bad else v for v in col]

    def row(self, index: int) -> ParsedRow:
        """Row `index` (0-based) as `parse_rows` gives it."""
        if self._rows is not None:
            return self._rows[index]
        raw = [column[index] for column in self._raw]
        values = {self.names[n]: self._typed[n][index] for n in self._full}
        for n in self._partial:
            value = self._typed[n][index]
            if value is not None and value.__class__ is not _Bad:
                values[self.names[n]] = value
        return ParsedRow(self.numbers[index], values, dict(zip(self.names, raw, strict=True)),
                         index not in self._bad, list(self._problems.get(index, ())))

    def rows(self) -> list[ParsedRow]:
        """Every row as `parse_rows` gives it."""
        if self._rows is not None:
            return self._rows
        names, typed, full = self.names, self._typed, self._full
        full_names = [names[n] for n in full]
        full_rows = (list(zip(*(typed[n] for n in full), strict=True)) if full
                     else [()] * len(self.numbers))
        partial = [(names[n], typed[n]) for n in self._partial]
        raws = (list(zip(*self._raw, strict=True)) if self._raw
                else [()] * len(self.numbers))
        out = []
        for r, number in enumerate(self.numbers):
            row = ParsedRow(number, dict(zip(full_names, full_rows[r], strict=True)),
                            dict(zip(names, raws[r], strict=True)))
            for name, col in partial:
                value = col[r]
                if value is not None and value.__class__ is not _Bad:
                    row.values[name] = value
            found = self._problems.get(r)
            if found:
                row.ok = False
                row.problems.extend(found)
            out.append(row)
        self._rows = out
        return out


def _parse_table(sheet: Sheet, mapping: dict[int, Column]) -> ParsedTable:
    by_name = {c.name: (i, c) for i, c in mapping.items()}  # one entry a column name
    names = list(by_name)
    at = [i for i, _ in by_name.values()]  # in the order of `names`
    kept = sheet.columns()
    raw_columns: list[Sequence[Any]]
    if kept is not None:  # the reader kept the sheet's columns: no row is looked at
        numbers, raw_columns = list(kept[0]), [kept[1][i] for i in at]
    else:
        numbers = [number for number, _ in sheet.rows]
        if len(at) > 1 and sheet.rows and min(len(v) for _, v in sheet.rows) > max(at):
            raws = list(map(itemgetter(*at), (values for _, values in sheet.rows)))
        else:
            raws = [tuple([values[i] if i < len(values) else None for i in at])
                    for _, values in sheet.rows]
        raw_columns = list(zip(*raws, strict=True)) if raws else [() for _ in names]
    currencies: Sequence[str] = ["KHR"] * len(numbers)
    if "currency" in by_name:
        given, _ = _typed_column(_Typer(by_name["currency"][1]),
                                 raw_columns[names.index("currency")], currencies)
        # A currency cell's own problem is reported below; its row's amounts read as riel.
        currencies = ["KHR" if c is None or c.__class__ is _Bad else c for c in given]
    typing = [_typed_column(_Typer(c), raw_columns[n], currencies)
              for n, (_i, c) in enumerate(by_name.values())]
    typed = [col for col, _ in typing]
    full = [n for n, (_, clean) in enumerate(typing) if clean]
    problems: dict[int, list[Problem]] = {}
    for n in range(len(names)):  # column by column, so each row's problems keep column order
        if n in full:
            continue
        name, required, col = names[n], by_name[names[n]][1].required, typed[n]
        for r, value in enumerate(col):
            if value is None:
                if required:
                    problems.setdefault(r, []).append(Problem(numbers[r], name, "",
                                                              f"{name} is required"))
            elif value.__class__ is _Bad:
                problems.setdefault(r, []).append(Problem(
                    numbers[r], name, cells.shown(raw_columns[n][r]), value.message))
    return ParsedTable(numbers, names, raw_columns, typed, full, problems)
