"""Any report (a frozen dataclass of amounts, dates, rates and tuples of rows) drawn as Rich
tables: scalar fields as a two-column grid, each tuple of rows as a table with amounts
right-aligned. One renderer serves every report, so a new report needs no new widget."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ledger.money import Money

__all__ = ["render_report", "show_value"]


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def show_value(value: Any) -> str:
    """A cell's text: money as `150,000 ៛`, fractions as percents, dates ISO."""
    if value is None:
        return "—"
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,f}"
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "numerator") and hasattr(value, "denominator"):
        fraction = value.value
        return "—" if fraction is None else f"{fraction * 100:.2f} %"
    return str(value)


def _is_row(value: Any) -> bool:
    """A nested record (not an amount or a ratio, which show as one cell)."""
    return (dataclasses.is_dataclass(value) and not isinstance(value, type | Money)
            and not hasattr(value, "numerator"))


def _table(rows: tuple[Any, ...]) -> Table:
    fields = [f.name for f in dataclasses.fields(rows[0])
              if not isinstance(getattr(rows[0], f.name), tuple | list)
              and not _is_row(getattr(rows[0], f.name))]
    table = Table(box=None, padding=(0, 1), header_style="bold")
    money = {n for n in fields if isinstance(getattr(rows[0], n), Money | int | Decimal)
             or hasattr(getattr(rows[0], n), "numerator")}
    for name in fields:
        table.add_column(_label(name), justify="right" if name in money else "left")
    for row in rows:
        table.add_row(*(show_value(getattr(row, n)) for n in fields))
    return table


def render_report(report: Any, title: str = "") -> RenderableType:
    """The report as a group of tables (its scalar fields first, then each list of rows)."""
    parts: list[RenderableType] = []
    if title:
        parts.append(Text(title, style="bold underline"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    later: list[tuple[str, Any]] = []
    for f in dataclasses.fields(report):
        value = getattr(report, f.name)
        if isinstance(value, tuple | list) or _is_row(value):
            later.append((f.name, value))
        else:
            grid.add_row(_label(f.name), show_value(value))
    parts.append(grid)
    for name, value in later:
        parts.append(Text(f"\n{_label(name)}", style="bold"))
        if isinstance(value, tuple | list):
            if value and _is_row(value[0]):
                parts.append(_table(tuple(value)))
            else:
                parts.append(Text(", ".join(show_value(v) for v in value) or "none"))
        else:
            parts.append(render_report(value))
    return Group(*parts)
