"""The Checks sheet: live formulas that recompute key totals from the data sheets and compare
them with the figures the ledger reports, each ending TRUE or FALSE.

Every formula also carries a cached result — what the rows actually written sum to, tallied as
they streamed past — so a program that does not recalculate on opening shows the same figure a
recalculation gives. Ledger figures ("reported") come from separate SQL sums, never from the
rows written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from exports.cells import Amount, Cell, Formula
from exports.workbook import Column, Table, Workbook

__all__ = ["CHECK_COLUMNS", "Check", "Criterion", "Ratio", "Sum", "Tally", "write_checks"]

CHECK_COLUMNS = (
    Column("Check", 58), Column("Currency", 8), Column("Figure", 18),
    Column("Should equal", 18), Column("Holds", 8),
)


@dataclass(frozen=True, slots=True)
class Criterion:
    """A condition on one column: equal to a text (case-insensitive) or at least a number."""

    header: str
    value: str | int
    op: str = "="  # "=", "<>" (texts) or ">=" (numbers)

    def formula(self) -> str:
        """The criterion as a SUMIFS argument."""
        if self.op == "=":
            return '"' + str(self.value).replace('"', '""') + '"'
        return '"' + self.op + str(self.value).replace('"', '""') + '"'

    def holds(self, cell: Cell) -> bool:
        """Whether a written cell meets the criterion, as SUMIFS would decide."""
        if self.op in ("=", "<>"):
            same = isinstance(cell, str) and cell.casefold() == str(self.value).casefold()
            return same if self.op == "=" else not same
        return isinstance(cell, int | Decimal) and not isinstance(cell, bool) \
            and cell >= int(self.value)


@dataclass
class Sum:
    """Σ of an amount column over a table's rows meeting every criterion: as a formula over
    every sheet of the table, and as the sum of the rows seen while writing (the cache)."""

    table: Table
    column: str
    criteria: tuple[Criterion, ...] = ()
    total: int = 0
    _index: int = -1
    _tests: list[tuple[int, Criterion]] = field(default_factory=list)

    def __post_init__(self) -> None:
        headers = [c.header for c in self.table.columns]
        self._index = headers.index(self.column)
        self._tests = [(headers.index(c.header), c) for c in self.criteria]

    def observe(self, row: Sequence[Cell]) -> None:
        """Add a written row to the cached total when it meets the criteria."""
        if all(c.holds(row[i]) for i, c in self._tests):
            value = row[self._index]
            if isinstance(value, Amount):
                self.total += value.minor
            elif isinstance(value, int) and not isinstance(value, bool):
                self.total += value

    def formula(self) -> str:
        """`SUMIFS(...)` (or `SUM`) over every sheet of the table, added together."""
        parts = []
        for index, target in enumerate(self.table.ranges(self.column)):
            if not self.criteria:
                parts.append(f"SUM({target})")
                continue
            args = [target]
            for crit in self.criteria:
                args += [self.table.ranges(crit.header)[index], crit.formula()]
            parts.append(f"SUMIFS({','.join(args)})")
        return "+".join(parts)


class Tally:
    """The sums a table's Checks rows need, fed each row as it is written."""

    def __init__(self) -> None:
        self.sums: list[Sum] = []

    def sum(self, table: Table, column: str, *criteria: Criterion) -> Sum:
        """Register a sum over `table` and return it."""
        found = Sum(table, column, criteria)
        self.sums.append(found)
        return found

    def write(self, table: Table, rows: Iterable[Sequence[Cell]]) -> None:
        """Append every row to `table`, feeding the sums registered on it."""
        table.extend(rows, _observer([s for s in self.sums if s.table is table]))


def _observer(sums: list[Sum]) -> Callable[[Sequence[Cell]], None] | None:
    """One function adding a written row to every sum it meets the criteria of. A text
    criterion's verdict is remembered per distinct text (a column holds few: currencies,
    kinds, yes/no), so each row costs a dictionary look-up per criterion."""
    if not sums:
        return None
    plans: list[tuple[Sum, int, tuple[tuple[int, Criterion, dict[str, bool]], ...]]] = [
        (s, s._index, tuple((i, c, {}) for i, c in s._tests)) for s in sums]

    def observe(row: Sequence[Cell]) -> None:
        for s, index, tests in plans:
            for i, crit, memo in tests:
                cell = row[i]
                if cell.__class__ is str:
                    ok = memo.get(cell)
                    if ok is None:
                        ok = memo[cell] = crit.holds(cell)
                else:
                    ok = crit.holds(cell)
                if not ok:
                    break
            else:
                value = row[index]
                if isinstance(value, Amount):
                    s.total += value.minor
                elif isinstance(value, int) and not isinstance(value, bool):
                    s.total += value

    return observe


@dataclass(frozen=True)
class Ratio:
    """One sum divided by another, rounded to six places (e.g. PAR30 = at risk / portfolio)."""

    numerator: Sum | tuple[Sum, ...]
    denominator: Sum


RATIO_PLACES = Decimal("0.000001")
Side = int | Decimal | Sum | Ratio | tuple[Sum, ...] | tuple[tuple[int, Sum], ...]


@dataclass(frozen=True)
class Check:
    """One line: a figure and what it should equal, each a ledger amount (minor units), a Sum,
    or a signed combination of Sums `((1, a), (-1, b))`."""

    name: str
    currency: str
    figure: Side
    should_equal: Side


def _expr(side: Side, currency: str) -> tuple[Cell, int | Decimal]:
    if isinstance(side, Decimal):
        return side, side
    if isinstance(side, int):
        return Amount(side, currency), side
    if isinstance(side, Ratio):
        nums = side.numerator if isinstance(side.numerator, tuple) else (side.numerator,)
        den = side.denominator
        top = sum(n.total for n in nums)
        value = (Decimal(top) / Decimal(den.total)).quantize(RATIO_PLACES, ROUND_HALF_UP) \
            if den.total else Decimal(0)
        num = "+".join(f"({n.formula()})" for n in nums)
        text = f"=IF(({den.formula()})=0,0,ROUND(({num})/({den.formula()}),6))"
        return Formula(text, value), value
    terms: tuple[tuple[int, Sum], ...]
    if isinstance(side, Sum):
        terms = ((1, side),)
    elif side and isinstance(side[0], Sum):
        terms = tuple((1, s) for s in side)  # type: ignore[misc]
    else:
        terms = side  # type: ignore[assignment]
    text = "".join(("+" if sign > 0 else "-") + f"({s.formula()})" for sign, s in terms)
    minor = sum(sign * s.total for sign, s in terms)
    cached = Amount(minor, currency).value
    return Formula("=" + text.lstrip("+"), cached, currency), minor


def write_checks(book: Workbook, checks: Sequence[Check]) -> tuple[Table, bool]:
    """The Checks sheet: one line per check, and a last line that all hold; returns the table
    and whether every check holds on the rows written."""
    table = book.table("Checks", CHECK_COLUMNS, split=False)
    all_hold = True
    for number, check in enumerate(checks):
        row = table.header_row + 2 + number  # 1-based row of this line
        figure, a = _expr(check.figure, check.currency)
        should, b = _expr(check.should_equal, check.currency)
        holds = a == b
        all_hold = all_hold and holds
        table.append((check.name, check.currency, figure, should,
                      Formula(f"=C{row}=D{row}", holds)))
    first, last = table.header_row + 2, table.header_row + 1 + max(len(checks), 1)
    table.append(("Every check holds", None, None, None,
                  Formula(f"=AND(E{first}:E{last})", all_hold)))
    table.finish()
    return table, all_hold
