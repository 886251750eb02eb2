"""Plain-text tables for the command line: columns padded to their widest cell, figures
right-aligned, a rule under the heading."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["rule", "table_line"]


def table_line(cells: Iterable[str], widths: Sequence[int], right: frozenset[int] | set[int]
               ) -> str:
    """One row: each cell padded to its column's width (right-aligned where `right` says)."""
    return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                     for i, c in enumerate(cells)).rstrip()


def rule(widths: Sequence[int]) -> str:
    """The line under a table's heading."""
    return "  ".join("-" * w for w in widths)
