"""`households`: household cash-flow grids, recorded through `record_household_grid`.

The file is flat, one row per grid LINE (an income or an expense), so a person fills it as a
plain table: the grid's own fields (`family_ref`, `recorded_on`, `usd_rate`, `rate_on`,
`savings`, `followup_ref`, `note`) are repeated on every line of the grid, or written once; the
rows that give one must agree. A line is one `amount` for every month, or (a seasonal line,
farming by season) the months `jan` … `dec` (a blank month is 0). The lines keep the order of
their rows. A grid keeps no ref: `grid_ref` is kept in `import_ref` (kind "households").
Each line row counts as one row created.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from imports import cells
from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, fetch_in
from imports.kinds.followups import REF_KIND as VISIT_REFS
from imports.preview import Checked, Context, Progress
from imports.problems import CellError, Problem
from imports.refs import RowRefused, known_refs, remember_ref
from ledger.db.tables import EXPENSE_CATEGORIES, INCOME_CATEGORIES, MONTH_COLUMNS, core_table
from ledger.money import Money, get_currency
from ledger.projection.cashflow import CashLine, ExpenseKind, IncomeSource
from ledger.services.errors import ServiceError
from ledger.services.households import grid_problems, record_household_grid
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "MONTHS", "REF_KIND", "GridLine", "GridPlan", "GridShape", "check",
           "commit", "remember", "stored_grids"]

REF_KIND = "households"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
GRID_FIELDS = ("family_ref", "recorded_on", "usd_rate", "rate_on", "savings", "followup_ref",
               "note")
_SERVICE_FIELDS = {"family": "family_ref", "follow_up": "followup_ref"}
COLUMNS = (
    Column("grid_ref", required=True, max_length=60, example="F001-G1",
           help="The grid's reference: its identity; repeat it on every line of the grid."),
    Column("family_ref", max_length=40, example="F001",
           help="The family (already in the ledger); required once per grid."),
    Column("recorded_on", "date", example="2008-06-01",
           help="The day the grid was written down; required once per grid."),
    Column("usd_rate", max_length=20, example="4100",
           help="Riel per dollar, when a line is in dollars (with rate_on)."),
    Column("rate_on", "date", example="2008-06-01", help="The date of that rate."),
    Column("savings", max_length=30, example="20,000",
           help="Riel the family holds; blank: 0."),
    Column("followup_ref", max_length=60, example="",
           help="The follow-up visit the grid was recorded at (imported before), optional."),
    Column("note", max_length=500, example="", help="Anything worth keeping, optional."),
    Column("kind", "choice", required=True, choices=("income", "expense"), example="income",
           help="income or expense."),
    Column("category", "choice", required=True, example="wage",
           choices=tuple(dict.fromkeys(INCOME_CATEGORIES + EXPENSE_CATEGORIES)),
           help="Incomes: " + ", ".join(INCOME_CATEGORIES) + ". Expenses: "
                + ", ".join(EXPENSE_CATEGORIES) + "."),
    Column("label", max_length=200, example="garment factory, Bavet",
           help="What the line is, optional."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
    Column("amount", "amount", example="260,000",
           help="The amount every month; leave blank for a seasonal line."),
    *(Column(m, "amount", example="", help=f"A seasonal line: the amount in {m.title()} "
             "(blank: 0); leave every month blank for a line with one amount.")
      for m in MONTHS),
)


@dataclass(frozen=True, slots=True)
class GridLine:
    """One line as stored: kind, category, label, currency, seasonal, twelve minor amounts."""

    kind: str
    category: str
    label: str
    currency: str
    seasonal: bool
    months: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GridShape:
    """A grid as stored, in the terms a file and the ledger can both be compared in."""

    family_id: int
    recorded_on: date
    usd_rate: Decimal | None
    rate_on: date | None
    savings_minor: int
    follow_up_id: int | None
    note: str
    lines: tuple[GridLine, ...]


@dataclass(frozen=True, slots=True)
class NewGrid:
    """One grid to record: its first row, ref, rows and the service's inputs."""

    row: int
    ref: str
    rows: int
    shape: GridShape


@dataclass(slots=True)
class GridPlan:
    """The grids to record, in file order, and once recorded each ref with its grid id."""

    items: list[NewGrid] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)


def stored_grids(session: Any, ids: list[int]) -> dict[int, GridShape]:
    """The grids with these ids, read from the tables, with their lines in order."""
    g, ln = core_table("household_grid"), core_table("household_line")
    lines: dict[int, list[GridLine]] = defaultdict(list)
    query = (sa.select(ln.c.grid_id, ln.c.kind, ln.c.category, ln.c.label, ln.c.currency,
                       ln.c.seasonal, *(ln.c[c] for c in MONTH_COLUMNS))
             .order_by(ln.c.grid_id, ln.c.position))  # chunks split by grid, never inside one
    for r in map(tuple, fetch_in(session, query, ln.c.grid_id, ids)):
        lines[int(r[0])].append(GridLine(str(r[1]), str(r[2]), str(r[3] or ""), str(r[4]),
                                         bool(r[5]), tuple(int(m) for m in r[6:])))
    out = {}
    for r in fetch_in(session, sa.select(g), g.c.id, ids):
        m = r._mapping
        out[int(m["id"])] = GridShape(
            int(m["family_id"]), m["recorded_on"], m["usd_rate"], m["rate_on"],
            int(m["savings_minor"]), m["follow_up_id"], str(m["note"] or ""),
            tuple(lines.get(int(m["id"]), ())))
    return out


def _rate(row: ParsedRow) -> Decimal | Problem | None:
    raw = row.get("usd_rate")
    if raw is None:
        return None
    try:
        rate = Decimal(str(raw).replace(",", "").replace(" ", ""))
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or rate <= 0 or rate != rate.quantize(Decimal("0.0001")):
        return Problem(row.number, "usd_rate", cells.shown(row.raw["usd_rate"]),
                       "write the riel per dollar as a number, e.g. 4100")
    return rate


def _savings(row: ParsedRow) -> int | Problem | None:
    raw = row.raw.get("savings")
    if raw is None:
        return None
    try:  # always riel, whatever the line's currency
        return cells.as_amount(raw, "KHR").minor
    except CellError as exc:
        return Problem(row.number, "savings", cells.shown(raw), str(exc))


def _line(row: ParsedRow) -> GridLine | Problem:
    """The row's line, or the problem with it (kind and category, amount or months)."""
    kind, category = row.get("kind"), row.get("category")
    allowed = INCOME_CATEGORIES if kind == "income" else EXPENSE_CATEGORIES
    if category not in allowed:
        return Problem(row.number, "category", category, (
            f"{category} is not an {kind} category; {kind} categories: {', '.join(allowed)}"))
    cur = get_currency(row.get("currency") or "KHR")
    months = [row.get(m) for m in MONTHS]
    given = [m for m in MONTHS if row.raw.get(m) is not None]
    if given and row.raw.get("amount") is not None:
        return Problem(row.number, given[0], cells.shown(row.raw[given[0]]), (
            "give either amount (the same every month) or the months jan … dec (a seasonal "
            "line), not both"))
    if given:
        zero = Money.zero(cur)
        return GridLine(kind, category, row.get("label") or "", cur.code, True,
                        tuple((m or zero).minor for m in months))
    amount: Money | None = row.get("amount")
    if amount is None:
        return Problem(row.number, "amount", "", (
            "give the amount every month, or the months jan … dec for a seasonal line"))
    return GridLine(kind, category, row.get("label") or "", cur.code, False,
                    (amount.minor,) * 12)


def _field(row: ParsedRow, name: str) -> Any:
    """One grid field of a row, parsed: a value, None when blank, or a Problem."""
    if name == "usd_rate":
        return _rate(row)
    if name == "savings":
        return _savings(row)
    return row.get(name)


def _grid_fields(rows: list[ParsedRow], ref: str, checked: Checked) -> dict[str, Any] | None:
    """The grid's own fields from its rows: each once, the rows that give it agreeing."""
    values: dict[str, Any] = {}
    first_row: dict[str, int] = {}
    ok = True
    for row in rows:
        for name in GRID_FIELDS:
            got = _field(row, name)
            if isinstance(got, Problem):
                checked.problems.append(got)
                ok = False
            elif got is None:
                continue
            elif name not in values:
                values[name], first_row[name] = got, row.number
            elif values[name] != got:
                checked.problems.append(Problem(row.number, name, cells.shown(row.raw[name]), (
                    f"grid {ref} has {name} {cells.shown(row.raw[name])!r} here but "
                    f"{cells.shown(values[name])!r} on row {first_row[name]}: a grid's rows "
                    "must agree")))
                ok = False
    for name in ("family_ref", "recorded_on"):
        if name not in values:
            checked.problems.append(Problem(rows[0].number, name, "", (
                f"grid {ref} has no {name}: write it on its first row (or on every row)")))
            ok = False
    return values if ok else None


def _shape(rows: list[ParsedRow], values: dict[str, Any], family_id: int,
           visit_id: int | None, ctx: Context, checked: Checked) -> GridShape | None:
    lines = []
    for row in rows:
        line = _line(row)
        if isinstance(line, Problem):
            checked.problems.append(line)
        else:
            lines.append(line)
    if len(lines) < len(rows):
        return None
    shape = GridShape(family_id, values["recorded_on"], values.get("usd_rate"),
                      values.get("rate_on"), values.get("savings", 0), visit_id,
                      values.get("note") or "", tuple(lines))
    first = rows[0].number
    found = grid_problems(_cash_lines(shape), usd_rate=shape.usd_rate, rate_on=shape.rate_on,
                          recorded_on=shape.recorded_on,
                          savings=Money.from_minor(shape.savings_minor, "KHR").amount)
    if shape.recorded_on > ctx.today:
        found.append(("recorded_on", f"{shape.recorded_on} is in the future"))
    for name, why in found:
        number, column = first, name
        if name.startswith("lines["):
            number, column = rows[int(name[6:-1]) - 1].number, "amount"
        value = {"recorded_on": shape.recorded_on, "rate_on": shape.rate_on}.get(column)
        checked.problems.append(Problem(number, column, cells.shown(value), why))
    return None if found else shape


def _cash_lines(shape: GridShape) -> tuple[CashLine, ...]:
    out = []
    for line in shape.lines:
        cur = get_currency(line.currency)
        values = tuple(Money.from_minor(m, cur).amount for m in line.months)
        category: IncomeSource | ExpenseKind = (
            IncomeSource(line.category) if line.kind == "income" else ExpenseKind(line.category))
        out.append(CashLine(category, values if line.seasonal else values[:1], cur,
                            line.label, line.seasonal))
    return tuple(out)


def _described(line: GridLine) -> str:
    cur = get_currency(line.currency)
    months = line.months if line.seasonal else line.months[:1]
    amounts = "/".join(str(Money.from_minor(m, cur).amount) for m in months)
    label = f" {line.label!r}" if line.label else ""
    return f"{line.kind} {line.category}{label} {amounts} {line.currency}"


def _conflicts(ref: str, rows: list[ParsedRow], mine: GridShape, have: GridShape
               ) -> list[Problem]:
    """A grid already imported with other content: its differing fields, then lines."""
    names = {"family_id": "family_ref", "recorded_on": "recorded_on", "usd_rate": "usd_rate",
             "rate_on": "rate_on", "savings_minor": "savings", "follow_up_id": "followup_ref",
             "note": "note"}
    diff = [(col, getattr(mine, attr), getattr(have, attr)) for attr, col in names.items()
            if getattr(mine, attr) != getattr(have, attr)]
    out = conflict(rows[0].number, "grid_ref", ref, "grid", diff) if diff else []
    for n in range(max(len(mine.lines), len(have.lines))):
        a = mine.lines[n] if n < len(mine.lines) else None
        b = have.lines[n] if n < len(have.lines) else None
        if a != b:
            column = next((c for c in ("kind", "category", "label", "currency")
                           if a and b and getattr(a, c) != getattr(b, c)), "amount")
            row = rows[min(n, len(rows) - 1)]
            out.append(Problem(row.number, column, cells.shown(row.raw.get(column)), (
                f"grid {ref} is already in the ledger with line {n + 1} "
                f"{_described(b) if b else '(none)'}, not "
                f"{_described(a) if a else '(none)'}; an import never overwrites the ledger: "
                "make the file agree, or correct the ledger first")))
    return out


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every grid: its rows agree, its family and follow-up visit exist, its lines
    are complete, the household service would take it; conflicts with grids imported before."""
    checked = Checked()
    for name in ("family_ref", "recorded_on"):
        if name not in present:
            checked.problems.append(Problem(1, name, "", (
                f"required column {name} is missing: add it (`fsf import template households` "
                "writes the headers)")))
    grids: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        if row.get("grid_ref") is not None:
            checked.refs[row.number] = row.get("grid_ref")
            grids[row.get("grid_ref")].append(row)
    families = by_refs(ctx.session, core_table("family"),
                       [r.get("family_ref") for r in rows if r.get("family_ref")])
    visits = known_refs(ctx.session, VISIT_REFS,
                        [r.get("followup_ref") for r in rows if r.get("followup_ref")])
    known = known_refs(ctx.session, REF_KIND, list(grids))
    stored = stored_grids(ctx.session, list(known.values()))
    plan = GridPlan()
    for ref, mine in grids.items():
        if not all(r.ok for r in mine):
            continue
        values = _grid_fields(mine, ref, checked)
        if values is None:
            continue
        family = families.get(values["family_ref"])
        visit = visits.get(values.get("followup_ref") or "")
        where = next(r.number for r in mine if r.get("family_ref"))
        if family is None:
            checked.problems.append(Problem(where, "family_ref", values["family_ref"], (
                f"family {values['family_ref']!r} is not in the ledger: import the families "
                "file first, or correct the ref")))
            continue
        if values.get("followup_ref") and visit is None:
            at = next(r.number for r in mine if r.get("followup_ref"))
            checked.problems.append(Problem(at, "followup_ref", values["followup_ref"], (
                f"follow-up visit {values['followup_ref']!r} is not in the ledger: import the "
                "followups file first, or correct the ref")))
            continue
        shape = _shape(mine, values, int(family._mapping["id"]), visit, ctx, checked)
        if shape is None:
            continue
        if ref in known:
            found = _conflicts(ref, mine, shape, stored[known[ref]])
            if found:
                checked.problems.extend(found)
            else:
                checked.status.update({r.number: "unchanged" for r in mine})
            continue
        checked.status.update({r.number: "new" for r in mine})
        plan.items.append(NewGrid(mine[0].number, ref, len(mine), shape))
    checked.plan = plan
    return checked


def commit(plan: GridPlan, ctx: Context, progress: Progress) -> int:
    """Record every new grid, in file order, inside the caller's transaction; returns the
    rows (lines) written."""
    with use_case(ctx.session):
        for done, item in enumerate(plan.items, start=1):
            s = item.shape
            try:
                grid = record_household_grid(
                    ctx.session, actor=ctx.actor, family_id=s.family_id, lines=_cash_lines(s),
                    recorded_on=s.recorded_on, usd_rate=s.usd_rate, rate_on=s.rate_on,
                    follow_up_id=s.follow_up_id, note=s.note, today=ctx.today,
                    savings=Money.from_minor(s.savings_minor, "KHR").amount)
            except ServiceError as exc:
                column = _SERVICE_FIELDS.get(exc.field or "", exc.field or "grid_ref")
                raise RowRefused(item.row, column if column in GRID_FIELDS else "grid_ref",
                                 item.ref, exc.message) from exc
            plan.created.append((item.ref, grid.id))
            progress(done, len(plan.items))
    return sum(item.rows for item in plan.items)


def remember(plan: GridPlan, ctx: Context, batch_id: int) -> None:
    """Keep each new grid's ref, so importing the file again finds it."""
    for ref, target in plan.created:
        remember_ref(ctx.session, kind=REF_KIND, ref=ref, target_id=target, batch_id=batch_id)
