"""Projections for a family: its stored cash-flow grid (the latest snapshot; a follow-up visit
records a new one), edited line by line; the capacity verdict for a proposed Foundation loan,
the financed activity's viability, stress tests, a seeded Monte Carlo and the Foundation loan
against the informal lender, all recomputed from the grid as typed. ctrl+s records the edited
grid as a new snapshot after a confirmation; leaving with unsaved edits asks first. Open it from
a family's page (p), as an area (7, then pick a family), or push it with a family's id or
reference: `ProjectionsScreen(family_id)` / `ProjectionsScreen(family_ref=…)`."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static

from ledger.money import KHR, Money
from ledger.projection import CashLine, IncomeSource, MonteCarloResult
from ledger.services.households import DEFAULT_USD_RATE, StoredGrid
from ledger.services.projections import HouseholdProjection, simulate_projection
from tui.dialogs import ConfirmDialog
from tui.dialogs.grid_line import GridLineDialog
from tui.screens.base import LedgerScreen
from tui.screens.projections_data import (
    ACTIVITIES,
    FIELDS,
    Debts,
    Draft,
    FamilyGrid,
    Parsed,
    parse_draft,
    project_draft,
    read_family_grid,
)
from tui.screens.projections_find import FamilyFinder
from tui.screens.projections_view import line_cells, results_view, risk_view, save_message

__all__ = ["ProjectionsScreen"]

class ProjectionsScreen(LedgerScreen):
    """A family's grid and projection (Enter edits a line, a adds one, ctrl+s saves)."""

    AREA = "Projections"
    CSS_PATH = "projections.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save grid", id="projections.save", priority=True),
        Binding("a", "add_line", "Add line", id="projections.add_line"),
        Binding("delete", "remove_line", "Remove line", id="projections.remove_line",
                key_display="del"),
        Binding("ctrl+f", "find", "Other family", id="projections.find"),
        Binding("escape", "back", "Back", id="projections.back"),
        Binding("q,ctrl+q", "quit_app", "Quit", id="projections.quit", show=False),
    ]

    class FamilyRead(Message):
        """The family, its stored grid, debts and the product were read."""

        def __init__(self, grid: FamilyGrid) -> None:
            self.grid = grid
            super().__init__()

    class ProjectionComputed(Message):
        """The projection of draft number `generation` was computed."""

        def __init__(self, generation: int, projection: HouseholdProjection) -> None:
            self.generation, self.projection = generation, projection
            super().__init__()

    class RiskSimulated(Message):
        """The Monte Carlo of draft number `generation` finished."""

        def __init__(self, generation: int, result: MonteCarloResult | None) -> None:
            self.generation, self.result = generation, result
            super().__init__()

    class GridSaved(Message):
        """The edited grid was recorded as a new snapshot."""

        def __init__(self, stored: StoredGrid, saved: tuple[object, ...]) -> None:
            self.stored, self.saved = stored, saved
            super().__init__()

    def __init__(self, family_id: int | None = None, *, family_ref: str | None = None) -> None:
        super().__init__()
        self.family_id, self.family_ref = family_id, family_ref
        self.pushed = family_id is not None or family_ref is not None
        self.grid: FamilyGrid | None = None
        self.lines: list[CashLine] = []
        self.baseline: tuple[object, ...] = ()
        self.generation = 0
        self.projection: HouseholdProjection | None = None
        self.debts: dict[Decimal | None, Debts] = {}

    def body(self) -> ComposeResult:
        yield FamilyFinder(id="projections-finder")
        with Horizontal(id="projections-main"):
            with Vertical(id="projections-editor"):
                yield Static("reading…", id="projections-family")
                yield Static("Cash-flow grid (+ income, − expense): Enter edits a line, a "
                             "adds one, del removes it", classes="projections-caption")
                table: DataTable[str] = DataTable(id="projections-lines", cursor_type="row")
                for label, width in (("Category", 12), ("Label", 22), ("Amounts", 28)):
                    table.add_column(label, width=width, key=label)
                yield table
                for name, label in FIELDS:
                    with Horizontal(classes="projections-row"):
                        yield Label(label, classes="projections-label")
                        yield Input(id=f"projections-{name}", compact=True,
                                    classes="projections-input")
                        yield Static("", id=f"projections-problem-{name}",
                                     classes="projections-problem")
                with Horizontal(classes="projections-row"):
                    yield Label("Activity", classes="projections-label")
                    yield Select(ACTIVITIES, value="none", allow_blank=False, compact=True,
                                 id="projections-activity")
                yield Static("", id="projections-problem-lines", classes="projections-problem")
            with VerticalScroll(id="projections-results"):
                yield Static("", id="projections-view")
                yield Static("", id="projections-risk")
                yield Static("", id="projections-more")

    def on_mount(self) -> None:
        self._show(finder=not self.pushed)
        if self.pushed:
            self._read(self.family_id, self.family_ref)
        else:
            self.query_one(FamilyFinder).start()

    def reload(self) -> None:
        """Read the family again, unless the grid has unsaved edits."""
        if self.grid is not None and not self.dirty:
            self._read(self.grid.family.id, None)

    def _show(self, *, finder: bool) -> None:
        self.query_one("#projections-finder").display = finder
        self.query_one("#projections-main").display = not finder
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The grid's keys only while a family's grid is open (hidden in the finder)."""
        if action in ("save", "add_line", "remove_line", "find"):
            return self.grid is not None
        return super().check_action(action, parameters)

    # --- reading -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="projections-read", exit_on_error=False)
    def _read(self, family_id: int | None, family_ref: str | None) -> None:
        from ledger.services.households import family_by_ref

        with self.fsf.read_session() as session:
            if family_id is None:
                family_id = family_by_ref(session, family_ref or "")
            grid = read_family_grid(session, actor=self.ctx.user, family_id=family_id,
                                    as_of=self.ctx.today)
        self.post_message(self.FamilyRead(grid))

    @on(FamilyRead)
    def _family_read(self, event: FamilyRead) -> None:
        g = self.grid = event.grid
        self.debts = {g.debt_rate: g.debts}
        self.lines = list(g.start)
        s = g.stored
        values = {"usd_rate": "" if s is None or s.usd_rate is None
                  else f"{s.usd_rate.normalize():f}",
                  "rate_on": "" if s is None or s.rate_on is None else str(s.rate_on),
                  "savings": Money(s.savings if s else Decimal(0), KHR).plain(), "amount": "150000",
                  "months": "10"}
        for name, value in values.items():
            self.query_one(f"#projections-{name}", Input).value = value
        self.baseline = self._draft().grid_part()
        self._show(finder=False)
        self._fill_table()
        self.query_one("#projections-lines", DataTable).focus()
        self._recompute()

    def _fill_table(self, cursor: int | None = None) -> None:
        table = self.query_one("#projections-lines", DataTable)
        table.clear()
        for n, line in enumerate(self.lines):
            table.add_row(*line_cells(line), key=str(n))
        if cursor is not None and self.lines:
            table.move_cursor(row=min(cursor, len(self.lines) - 1))

    # --- the draft -----------------------------------------------------------------------

    def _draft(self) -> Draft:
        value = {n: self.query_one(f"#projections-{n}", Input).value for n, _ in FIELDS}
        activity = str(self.query_one("#projections-activity", Select).value)
        return Draft(tuple(self.lines), value["usd_rate"], value["rate_on"], value["savings"],
                     value["amount"], value["months"], "" if activity == "none" else activity)

    @property
    def dirty(self) -> bool:
        """Whether the grid on screen differs from the one stored (or first filled in)."""
        return self.grid is not None and self._draft().grid_part() != self.baseline

    def _header(self) -> None:
        if self.grid is None:
            return
        f, g = self.grid.family, self.grid
        head = Text(f"{f.ref} {f.head_name} ({f.village_name})", style="bold")
        head.append(f"\n{g.origin}", style="dim")
        if self.dirty:
            head.append("\nUnsaved edits: ctrl+s records them as a new grid",
                        style="bold yellow")
        self.query_one("#projections-family", Static).update(head)

    @on(Input.Changed, ".projections-input")
    @on(Select.Changed, "#projections-activity")
    def _typed(self) -> None:
        if self.grid is not None:
            self._recompute()

    def _recompute(self) -> None:
        """Check every field, then project the draft in a worker (a newer draft wins)."""
        self._header()
        parsed, problems = parse_draft(self._draft(), today=self.ctx.today)
        for name in (*(n for n, _ in FIELDS), "lines"):
            self.query_one(f"#projections-problem-{name}", Static).update(
                Text(problems.get(name, ""), style="red"))
        self.generation += 1
        if parsed is None or not parsed.projectable:
            self.query_one("#projections-view", Static).update(
                Text("The projection appears when the fields read.", style="dim"))
            self.query_one("#projections-risk", Static).update("")
            self.query_one("#projections-more", Static).update("")
            return
        self._project(self.generation, parsed)

    @work(thread=True, exclusive=True, group="projection", exit_on_error=False)
    def _project(self, generation: int, parsed: Parsed) -> None:
        from ledger.services.households import family_debts

        assert self.grid is not None
        debts = self.debts.get(parsed.usd_rate)
        if debts is None:  # dollar debts are converted at the rate typed
            with self.fsf.read_session() as session:
                debts = self.debts[parsed.usd_rate] = family_debts(
                    session, actor=self.ctx.user, family_id=self.grid.family.id,
                    as_of=self.ctx.today, usd_rate=parsed.usd_rate)
        projection = project_draft(self.grid, parsed, debts, as_of=self.ctx.today)
        self.post_message(self.ProjectionComputed(generation, projection))

    @on(ProjectionComputed)
    def _computed(self, event: ProjectionComputed) -> None:
        if event.generation != self.generation:
            return  # edited since; a newer projection is coming
        self.projection = event.projection
        verdict, more = results_view(event.projection)
        self.query_one("#projections-view", Static).update(verdict)
        self.query_one("#projections-risk", Static).update(risk_view(None, pending=True))
        self.query_one("#projections-more", Static).update(more)
        self._simulate(event.generation, event.projection)

    @work(thread=True, exclusive=True, group="montecarlo", exit_on_error=False)
    def _simulate(self, generation: int, projection: HouseholdProjection) -> None:
        self.post_message(self.RiskSimulated(generation, simulate_projection(projection)))

    @on(RiskSimulated)
    def _simulated(self, event: RiskSimulated) -> None:
        if event.generation == self.generation:
            self.query_one("#projections-risk", Static).update(risk_view(event.result))

    # --- editing lines -------------------------------------------------------------------

    @on(DataTable.RowSelected, "#projections-lines")
    def _edit(self, event: DataTable.RowSelected) -> None:
        self._edit_line(event.cursor_row)

    @work(exclusive=True, group="projections-line", exit_on_error=False)
    async def _edit_line(self, row: int | None) -> None:
        if self.grid is None:
            return
        old = self.lines[row] if row is not None and row < len(self.lines) else None
        title = f"{'Edit' if old else 'Add'} a line of {self.grid.family.ref}'s grid"
        line = await self.app.push_screen_wait(GridLineDialog(title, old))
        if line is None:
            return
        if old is not None and row is not None:
            self.lines[row] = line
        else:
            row = len(self.lines)
            if isinstance(line.category, IncomeSource):  # after the incomes, not the expenses
                row = next((n for n, x in enumerate(self.lines)
                            if not isinstance(x.category, IncomeSource)), row)
            self.lines.insert(row, line)
        self._fill_table(cursor=row)
        self._recompute()

    def action_add_line(self) -> None:
        self._edit_line(None)

    def action_remove_line(self) -> None:
        table = self.query_one("#projections-lines", DataTable)
        if self.grid is None or not self.lines or not table.has_focus:
            return
        row = table.cursor_row
        del self.lines[row]
        self._fill_table(cursor=row)
        self._recompute()

    # --- saving --------------------------------------------------------------------------

    def action_save(self) -> None:
        self._save_flow()

    @work(exclusive=True, group="projections-save", exit_on_error=False)
    async def _save_flow(self) -> None:
        if self.grid is None:
            return
        draft = self._draft()
        parsed, problems = parse_draft(draft, today=self.ctx.today)
        if parsed is None or parsed.save_problems:
            why = "; ".join(parsed.save_problems if parsed else problems.values())
            self.notify(f"The grid cannot be recorded: {why}", title="Not saved",
                        severity="error", timeout=10)
            return
        f, stored = self.grid.family, self.grid.stored
        message = save_message(
            f"{f.ref} {f.head_name}", parsed, on=self.ctx.today,
            rate=parsed.usd_rate or DEFAULT_USD_RATE,
            replaces=stored.recorded_on if stored is not None else None)
        if await self.app.push_screen_wait(ConfirmDialog("Save this grid?", message,
                                                         confirm="Save")):
            self._record(parsed, draft.grid_part())

    @work(thread=True, exclusive=True, group="projections-record", exit_on_error=False)
    def _record(self, parsed: Parsed, saved: tuple[object, ...]) -> None:
        from ledger.services.households import record_household_grid

        assert self.grid is not None
        before = self.grid.stored
        with self.fsf.write_session() as session:
            stored = record_household_grid(
                session, actor=self.ctx.user, family_id=self.grid.family.id,
                lines=parsed.lines, recorded_on=self.ctx.today, usd_rate=parsed.usd_rate,
                rate_on=parsed.rate_on, savings=parsed.savings, today=self.ctx.today,
                note="edited on the projection screen" + (
                    f" from grid {before.id}" if before is not None else ""))
        self.post_message(self.GridSaved(stored, saved))

    @on(GridSaved)
    def _saved(self, event: GridSaved) -> None:
        assert self.grid is not None
        s = event.stored
        self.grid = replace(self.grid, stored=s,
                            origin=f"grid of {s.recorded_on} by {s.recorded_by} (just saved)")
        self.baseline = event.saved
        self._header()
        self.notify(f"Grid {s.id} recorded for {self.grid.family.ref}; the earlier one stays "
                    "in its history.", title="Saved", timeout=8)

    # --- leaving -------------------------------------------------------------------------

    async def _may_leave(self) -> bool:
        """True when nothing unsaved would be lost, or the person agrees to lose it."""
        if not self.dirty:
            return True
        assert self.grid is not None
        leave: bool = await self.app.push_screen_wait(ConfirmDialog(
            "Leave without saving?", f"Your edits to {self.grid.family.ref}'s grid are not "
            "saved and will be lost. (Cancel, then ctrl+s, to keep them.)", confirm="Leave"))
        return leave

    @work(exclusive=True, group="projections-leave", exit_on_error=False)
    async def action_back(self) -> None:
        if not await self._may_leave():
            return
        if self.pushed and len(self.app.screen_stack) > 1:
            self.dismiss(None)
        elif self.grid is not None:
            self._close_family()

    def _close_family(self) -> None:
        self.grid, self.lines, self.generation = None, [], self.generation + 1
        self._show(finder=True)
        self.query_one(FamilyFinder).start()

    @work(exclusive=True, group="projections-leave", exit_on_error=False)
    async def action_find(self) -> None:
        if await self._may_leave():
            self._close_family()

    @work(exclusive=True, group="projections-leave", exit_on_error=False)
    async def action_quit_app(self) -> None:
        if await self._may_leave():
            self.app.exit()

    @on(FamilyFinder.Picked)
    def _picked(self, event: FamilyFinder.Picked) -> None:
        self._read(event.family_id, None)
