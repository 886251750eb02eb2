"""Training: who needs a follow-up visit, and recording one. The visit's income and its food
and housing costs update the family's cash-flow grid in the same transaction (a new snapshot
linked to the visit, see `ledger.services.training_followups`); the confirmation says which
lines they replace. p opens the family's projection."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from ledger.money import Money
from ledger.projection import CashLine, ExpenseKind, IncomeSource
from tui.dialogs import ConfirmDialog, EntryDialog, EntryField
from tui.dialogs.checks import amount_check, date_check, parse_date
from tui.screens.base import LedgerScreen

__all__ = ["TrainingScreen"]

_ACTIVITIES = ("employed", "self-employed", "not-working")


class TrainingScreen(LedgerScreen):
    """Follow-ups due; Enter records a visit for the person selected."""

    AREA = "Training"
    CSS_PATH = "training.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "visit", "Record visit", id="training.visit"),
        Binding("p", "projection", "Projection", id="training.projection"),
    ]

    class FollowUpsLoaded(Message):
        """The follow-ups due were read."""

        def __init__(self, report: object) -> None:
            self.report = report
            super().__init__()

    class FollowUpRecorded(Message):
        """A visit was recorded, and the grid snapshot it left."""

        def __init__(self, who: str, family_ref: str, grid_id: int | None) -> None:
            self.who, self.family_ref, self.grid_id = who, family_ref, grid_id
            super().__init__()

    def body(self) -> ComposeResult:
        yield Static("Follow-ups due or overdue; Enter records a visit", id="training-caption")
        table: DataTable[object] = DataTable(id="training-table", cursor_type="row",
                                             zebra_stripes=True)
        for label, width in (("Family", 8), ("Person", 18), ("Skill", 12), ("Village", 12),
                             ("Last visit", 10), ("Next", 10), ("Late", 5)):
            table.add_column(label, width=width, key=label)
        yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Read the follow-ups due again."""
        from ledger.reports.training import follow_ups_due

        with self.fsf.read_session() as session:
            report = follow_ups_due(session, actor=self.ctx.user, as_of=self.ctx.today)
        self.post_message(self.FollowUpsLoaded(report))

    @on(FollowUpsLoaded)
    def _loaded(self, event: FollowUpsLoaded) -> None:
        self.rows = list(getattr(event.report, "rows", ()))
        table = self.query_one(DataTable)
        table.clear()
        for n, r in enumerate(self.rows):
            table.add_row(r.family_ref, r.person, r.skill, r.village, str(r.last_visit or ""),
                          str(r.next_visit), str(r.days_overdue or ""), key=str(n))
        self.query_one("#training-caption", Static).update(
            f"{len(self.rows)} people need a visit (of {event.report.followed} followed); "  # type: ignore[attr-defined]
            "Enter records a visit")

    @on(DataTable.RowSelected, "#training-table")
    def _chosen(self) -> None:
        self.action_visit()

    @work(exclusive=True, group="training-visit", exit_on_error=False)
    async def action_visit(self) -> None:
        table = self.query_one(DataTable)
        if not getattr(self, "rows", None) or not table.row_count:
            return
        row = self.rows[table.cursor_row]
        today = self.ctx.today
        values = await self.app.push_screen_wait(EntryDialog(
            f"Follow-up visit: {row.person} ({row.family_ref}), {row.skill}", [
                EntryField("visited_on", "Visited on (YYYY-MM-DD)", today.isoformat(),
                           date_check(not_after=today)),
                EntryField("activity", "Activity: employed, self-employed or not-working",
                           "self-employed",
                           lambda t: None if t.strip() in _ACTIVITIES else
                           "one of employed, self-employed, not-working"),
                EntryField("detail", "Where or in what (e.g. tailoring at home)", ""),
                EntryField("income", "Income a month (riel)", "", amount_check("KHR",
                                                                               positive=False)),
                EntryField("costs", "Food and housing a month (riel)", "",
                           amount_check("KHR", positive=False)),
            ]))
        if values is None:
            return
        income, costs = Money.parse(values["income"], "KHR"), Money.parse(values["costs"], "KHR")
        on_day = parse_date(values["visited_on"])
        was = await asyncio.to_thread(self._replaced, row.family_ref, on_day)
        if await self.app.push_screen_wait(ConfirmDialog(
                "Record this visit?", f"{row.person} ({row.family_ref}) visited {on_day}: "
                                      f"{values['activity']}, income {income}, costs {costs}."
                                      f"\n\n{was}")):
            self._record(row, on_day, values, income, costs)

    def _replaced(self, family_ref: str, on_day: date) -> str:
        """What the visit will change in the family's grid, in words (read in a thread)."""
        from ledger.services.households import family_by_ref, latest_grid

        with self.fsf.read_session() as session:
            grid = latest_grid(session, actor=self.ctx.user, as_of=on_day,
                               family_id=family_by_ref(session, family_ref))
        if grid is None:
            return (f"{family_ref} has no cash-flow grid yet: this visit starts one with the "
                    "income and the food and housing costs above.")

        def said(lines: list[CashLine]) -> str:
            return " + ".join(f"{x.label or x.category.value} {Money(x.amounts[0], x.currency)}"
                              + (" (seasonal)" if x.seasonal else "") for x in lines)

        activity = [x for x in grid.incomes if x.category is IncomeSource.ACTIVITY]
        living = [x for x in grid.expenses
                  if x.category in (ExpenseKind.FOOD, ExpenseKind.HOUSING)]
        income = (f"the income replaces its activity income ({said(activity)})" if activity
                  else "the income becomes its activity income (it has none yet)")
        costs = (f"the costs its food and housing ({said(living)})" if living
                 else "the costs become its food and housing (it has none yet)")
        return (f"{family_ref}'s cash-flow grid (of {grid.recorded_on}) gets a new snapshot "
                f"dated {on_day}: {income}, {costs}; its other lines stay.")

    @work(thread=True, exclusive=True, group="training-save", exit_on_error=False)
    def _record(self, row: object, on_day: object, values: dict[str, str], income: Money,
                costs: Money) -> None:
        from ledger.services.households import follow_up_grid
        from ledger.services.training_followups import VisitInput, record_follow_up

        with self.fsf.write_session() as session:
            visit = record_follow_up(session, actor=self.ctx.user, today=self.ctx.today,
                                     data=VisitInput(
                enrollment_id=row.enrollment_id, visited_on=on_day,  # type: ignore[attr-defined,arg-type]
                officer=self.ctx.user.name, activity=values["activity"].strip(),
                activity_detail=values["detail"], income=income, costs=costs))
            assert visit.id is not None
            grid = follow_up_grid(session, actor=self.ctx.user, follow_up_id=visit.id)
        self.post_message(self.FollowUpRecorded(
            row.person, row.family_ref,  # type: ignore[attr-defined]
            None if grid is None else grid.id))

    @on(FollowUpRecorded)
    def _recorded(self, event: FollowUpRecorded) -> None:
        grid = f" (grid {event.grid_id})" if event.grid_id is not None else ""
        self.notify(f"Visit to {event.who} recorded; {event.family_ref}'s cash-flow grid is "
                    f"updated{grid}.", title="Saved", timeout=8)
        self.reload()

    def action_projection(self) -> None:
        """Open the selected person's family's projection."""
        from tui.screens.projections import ProjectionsScreen

        table = self.query_one(DataTable)
        if getattr(self, "rows", None) and table.row_count:
            row = self.rows[table.cursor_row]
            self.app.push_screen(ProjectionsScreen(family_ref=row.family_ref))
