"""Training: who needs a follow-up visit, and recording one (its monthly income and costs
become the family's cash-flow figures for projections and the next loan's capacity check)."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from ledger.money import Money
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
    ]

    class FollowUpsLoaded(Message):
        """The follow-ups due were read."""

        def __init__(self, report: object) -> None:
            self.report = report
            super().__init__()

    class FollowUpRecorded(Message):
        """A visit was recorded."""

        def __init__(self, who: str) -> None:
            self.who = who
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
        if await self.app.push_screen_wait(ConfirmDialog(
                "Record this visit?", f"{row.person} ({row.family_ref}) visited {on_day}: "
                                      f"{values['activity']}, income {income}, costs {costs}.")):
            self._record(row, on_day, values, income, costs)

    @work(thread=True, exclusive=True, group="training-save", exit_on_error=False)
    def _record(self, row: object, on_day: object, values: dict[str, str], income: Money,
                costs: Money) -> None:
        from ledger.services.training_followups import VisitInput, record_follow_up

        with self.fsf.write_session() as session:
            record_follow_up(session, actor=self.ctx.user, today=self.ctx.today, data=VisitInput(
                enrollment_id=row.enrollment_id, visited_on=on_day,  # type: ignore[attr-defined,arg-type]
                officer=self.ctx.user.name, activity=values["activity"].strip(),
                activity_detail=values["detail"], income=income, costs=costs))
        self.post_message(self.FollowUpRecorded(row.person))  # type: ignore[attr-defined]

    @on(FollowUpRecorded)
    def _recorded(self, event: FollowUpRecorded) -> None:
        self.notify(f"Visit to {event.who} recorded; their cash-flow figures are updated.",
                    title="Saved", timeout=8)
        self.reload()
