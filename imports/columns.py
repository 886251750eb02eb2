"""Column specifications and turning a sheet's rows into typed values, problem by problem.

Headers match case-insensitively, ignoring spaces, underscores and hyphens ("Family Ref" is
`family_ref`). A missing required column stops the import before any row is read; an unknown
column is reported (it could be a misspelt optional one whose values would otherwise be lost).
`status` and `message`, the columns a feedback workbook adds, are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from imports import cells
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


def parse_rows(sheet: Sheet, mapping: dict[int, Column]) -> list[ParsedRow]:
    """Every data row parsed cell by cell; each bad or missing required cell is a problem."""
    by_name = {c.name: (i, c) for i, c in mapping.items()}
    out = []
    for number, values in sheet.rows:
        row = ParsedRow(number, {}, {})
        for index, column in mapping.items():
            row.raw[column.name] = values[index] if index < len(values) else None
        currency = "KHR"
        if "currency" in by_name and row.raw.get("currency") is not None:
            try:
                currency = by_name["currency"][1].parse(row.raw["currency"])
            except CellError:
                currency = "KHR"  # the currency cell's own problem is reported below
        for name, (_index, column) in by_name.items():
            value = row.raw.get(name)
            if value is None:
                if column.required:
                    row.ok = False
                    row.problems.append(Problem(number, name, "", f"{name} is required"))
                continue
            try:
                row.values[name] = column.parse(value, currency)
            except CellError as exc:
                row.ok = False
                row.problems.append(Problem(number, name, cells.shown(value), str(exc)))
        out.append(row)
    return out
