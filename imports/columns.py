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

__all__ = ["FEEDBACK_COLUMNS", "Column", "ParsedRow", "match_headers", "normalise", "parse_rows"]

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
            if len(set(map(type, cells_))) == 1 and (typer.column.type != "amount"
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


def _all_parsed(values: Iterable[Any]) -> bool:
    return not any(v is None or v.__class__ is _Bad for v in values)


def parse_rows(sheet: Sheet, mapping: dict[int, Column]) -> list[ParsedRow]:
    """Every data row parsed cell by cell; each bad or missing required cell is a problem.
    Typed a column at a time (a file repeats its values); only the columns holding a blank
    or a wrong cell are looked at row by row."""
    with paused():
        return _parse_rows(sheet, mapping)


def _parse_rows(sheet: Sheet, mapping: dict[int, Column]) -> list[ParsedRow]:
    by_name = {c.name: (i, c) for i, c in mapping.items()}  # one entry a column name
    names = list(by_name)
    numbers = [number for number, _ in sheet.rows]
    at = [i for i, _ in by_name.values()]  # in the order of `names`
    if len(at) > 1 and sheet.rows and min(len(v) for _, v in sheet.rows) > max(at):
        raws = list(map(itemgetter(*at), (values for _, values in sheet.rows)))
    else:
        raws = [tuple([values[i] if i < len(values) else None for i in at])
                for _, values in sheet.rows]
    raw_columns = list(zip(*raws, strict=True)) if raws else [() for _ in names]
    currencies: Sequence[str] = ["KHR"] * len(raws)
    if "currency" in by_name:
        given, _ = _typed_column(_Typer(by_name["currency"][1]),
                                 raw_columns[names.index("currency")], currencies)
        # A currency cell's own problem is reported below; its row's amounts read as riel.
        currencies = ["KHR" if c is None or c.__class__ is _Bad else c for c in given]
    typing = [_typed_column(_Typer(c), raw_columns[n], currencies)
              for n, (_i, c) in enumerate(by_name.values())]
    typed = [col for col, _ in typing]
    full = [n for n, (_, clean) in enumerate(typing) if clean]
    partial = [(n, names[n], by_name[names[n]][1].required, typed[n])
               for n in range(len(names)) if n not in full]
    full_names = [names[n] for n in full]
    full_rows = list(zip(*(typed[n] for n in full), strict=True)) if full else [()] * len(raws)
    out = []
    for r, number in enumerate(numbers):
        row = ParsedRow(number, dict(zip(full_names, full_rows[r], strict=True)),
                        dict(zip(names, raws[r], strict=True)))
        for n, name, required, col in partial:
            value = col[r]
            if value is None:
                if required:
                    row.ok = False
                    row.problems.append(Problem(number, name, "", f"{name} is required"))
            elif value.__class__ is _Bad:
                row.ok = False
                row.problems.append(Problem(number, name, cells.shown(raws[r][n]),
                                            value.message))
            else:
                row.values[name] = value
        out.append(row)
    return out
