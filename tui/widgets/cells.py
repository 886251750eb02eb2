"""Cells that read the same everywhere: amounts right-aligned, Khmer text kept for the last
column, Latin spelling for aligned columns."""

from __future__ import annotations

from rich.text import Text

from ledger.money import Money

__all__ = ["amount", "counted", "fit"]


def amount(value: Money | None, *, style: str = "") -> Text:
    """An amount as `150,000 ៛`, right-aligned in its column (blank for None)."""
    return Text("" if value is None else str(value), justify="right", style=style)


def counted(n: int, what: str, many: str | None = None) -> str:
    """`n` things as a person writes it: "1 loan", "2 loans", "1,000 families" (`many`
    when the plural is not `what` and an s)."""
    return f"{n:,} {what if n == 1 else many or what + 's'}"


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` cut or padded to exactly `width` cells (an ellipsis marks a cut)."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) > width:
        text = set_cell_size(text, max(width - 1, 0)) + "…" if width > 0 else ""
    pad = " " * max(width - cell_len(text), 0)
    return pad + text if right else text + pad
