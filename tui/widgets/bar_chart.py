"""A two-series horizontal bar chart drawn with block characters (no plotting library)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from ledger.money import Money

__all__ = ["PairedBars", "paired_bars"]

_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(value: int, top: int, width: int) -> str:
    if top <= 0 or value <= 0:
        return ""
    eighths = value * width * 8 // top
    full, part = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[part] if part else "")


def paired_bars(rows: Sequence[tuple[str, Money, Money]], names: tuple[str, str],
                width: int = 30) -> Text:
    """One line per row and series: label, bar, amount; the largest value fills `width`."""
    top = max((max(a.minor, b.minor) for _, a, b in rows), default=0)
    out = Text()
    out.append(f"{'':8}", style="")
    out.append(f"█ {names[0]}  ", style="cyan")
    out.append(f"█ {names[1]}\n", style="green")
    for label, first, second in rows:
        out.append(f"{label:8}")
        out.append(f"{_bar(first.minor, top, width):<{width + 1}}", style="cyan")
        out.append(f"{first!s:>14}\n")
        out.append(f"{'':8}")
        out.append(f"{_bar(second.minor, top, width):<{width + 1}}", style="green")
        out.append(f"{second!s:>14}\n")
    return out


class PairedBars(Static):
    """A `paired_bars` chart as a widget; `show(rows)` redraws it."""

    def __init__(self, names: tuple[str, str], *, width: int = 30, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names, self.bar_width = names, width

    def show(self, rows: Sequence[tuple[str, Money, Money]]) -> None:
        """Draw these rows."""
        self.update(paired_bars(rows, self.names, self.bar_width))
