"""Village meeting: pick a village and a month, see its collection sheet, type what each
family paid in one pass (Tab or Enter moves down), review the totals, and post every payment
in one transaction (all or nothing). It opens on the village used last, else the user's first
village (a treasurer sees only hers), for the current month, with the sheet already read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from ledger.actor import Actor
from ledger.db.tables import core_table
from ledger.money import Money
from tui.dialogs import ConfirmDialog
from tui.screens.base import LedgerScreen
from tui.screens.data.meeting import SheetLine, collection_lines, villages_with_loans
from tui.widgets.cells import counted, fit

__all__ = ["MeetingScreen", "post_meeting", "villages_for"]


@dataclass(frozen=True, slots=True)
class _Paid:
    line: SheetLine
    amount: Money


def post_meeting(session, *, actor, paid: list[_Paid], on: date, today: date) -> int:  # type: ignore[no-untyped-def]
    """Record every payment of the meeting in one transaction; returns how many."""
    from ledger.services.repayments import record_repayment
    from ledger.services.unit import use_case

    with use_case(session):
        for p in paid:
            record_repayment(session, actor=actor, loan_id=p.line.loan_id, amount=p.amount,
                             paid_on=on, today=today, note="village meeting")
    return len(paid)


def villages_for(session: Session, actor: Actor) -> list[tuple[int, str, str, int]]:
    """The villages with active loans that `actor` collects in (all of them, unless the actor
    is limited to some villages): (id, English name, Khmer name, active loans)."""
    rows = villages_with_loans(session)
    if actor.villages is None:
        return rows
    vil = core_table("village")
    mine = set(session.execute(sa.select(vil.c.id).where(
        vil.c.code.in_(sorted(actor.villages)))).scalars())
    return [row for row in rows if row[0] in mine]


class MeetingScreen(LedgerScreen):
    """The collection sheet, typed in and posted at once."""

    AREA = "Village meeting"
    CSS_PATH = "meeting.tcss"
    LEAVE_TO = "#meeting-village"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "post", "Post all", id="meeting.post", priority=True),
        Binding("f6", "fill_expected", "Fill expected", id="meeting.fill"),
        # Priority: the app moves focus before it hands the next typed key to a field, so
        # fast typing ("10000⏎5000") never lands in the row just left.
        Binding("enter", "next_row", "Next row", show=False, priority=True,
                id="meeting.next_row"),
    ]

    class VillagesLoaded(Message):
        """The villages with active loans were read."""

        def __init__(self, villages: list[tuple[int, str, str, int]]) -> None:
            self.villages = villages
            super().__init__()

    class SheetLoaded(Message):
        """A village's collection sheet was read."""

        def __init__(self, village_id: int, lines: list[SheetLine]) -> None:
            self.village_id, self.lines = village_id, lines
            super().__init__()

    class MeetingPosted(Message):
        """The meeting's payments were posted."""

        def __init__(self, count: int, total: Money, on: date) -> None:
            self.count, self.total, self.on = count, total, on
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[SheetLine] = []
        self.village_names: dict[int, str] = {}
        self.posted = ""  # what the last post saved, shown until something is typed

    def body(self) -> ComposeResult:
        today = self.ctx.today
        with Horizontal(id="meeting-pick"):
            yield Select[int]([], prompt="Village", id="meeting-village", compact=True)
            yield Label(" Month ")
            yield Input(f"{today:%Y-%m}", id="meeting-month", compact=True)
            yield Label(" Paid on ")
            yield Input(today.isoformat(), id="meeting-date", compact=True)
        yield Static("", id="meeting-header")
        yield VerticalScroll(id="meeting-rows")
        yield Static("", id="meeting-totals", markup=False)  # quotes what was typed

    def on_mount(self) -> None:
        self._villages()

    def reload(self) -> None:
        """Read the villages again."""
        self._villages()

    @work(thread=True, exit_on_error=False)
    def _villages(self) -> None:
        with self.fsf.read_session() as session:
            rows = villages_for(session, self.ctx.user)
        self.post_message(self.VillagesLoaded(rows))

    @on(VillagesLoaded)
    def _villages_loaded(self, event: VillagesLoaded) -> None:
        select = self.query_one("#meeting-village", Select)
        self.village_names = {vid: en for vid, en, _, _ in event.villages}
        select.set_options([(f"{en} ({counted(n, 'loan')}) {kh}", vid)
                            for vid, en, kh, n in event.villages])
        if not event.villages:
            self.query_one("#meeting-header", Static).update(
                "No village you collect in has an active loan.")
            select.focus()
            return
        last = self.fsf.last_village
        # Selecting posts Select.Changed, which reads the sheet (and focuses its first row).
        select.value = last if last in self.village_names else event.villages[0][0]

    def _month(self) -> tuple[int, int] | None:
        text = self.query_one("#meeting-month", Input).value.strip()
        try:
            day = date.fromisoformat(f"{text}-01")
        except ValueError:
            return None
        return day.year, day.month

    @on(Select.Changed, "#meeting-village")
    @on(Input.Submitted, "#meeting-month")
    def _pick(self) -> None:
        village = self.query_one("#meeting-village", Select).value
        month = self._month()
        if isinstance(village, int) and month is not None:
            self.fsf.last_village = village
            self.query_one("#meeting-header", Static).update("reading the sheet…")
            self._sheet(village, *month)

    @work(thread=True, exclusive=True, group="meeting-sheet", exit_on_error=False)
    def _sheet(self, village_id: int, year: int, month: int) -> None:
        with self.fsf.read_session() as session:
            lines = collection_lines(session, village_id=village_id, year=year, month=month,
                                     as_of=self.ctx.today)
        self.post_message(self.SheetLoaded(village_id, lines))

    @on(SheetLoaded)
    async def _sheet_loaded(self, event: SheetLoaded) -> None:
        self.lines = event.lines
        rows = self.query_one("#meeting-rows", VerticalScroll)
        await rows.remove_children()
        self.query_one("#meeting-header", Static).update(
            fit("Family", 8) + " " + fit("Name", 18) + " " + fit("Due", 10, right=True) + " "
            + fit("Overdue", 10, right=True) + "  Paid")
        widgets = []
        for n, line in enumerate(event.lines):
            row = Horizontal(
                Label(fit(line.family_ref, 8) + " " + fit(line.name_latin, 18) + " "
                      + fit(str(line.due), 10, right=True) + " "
                      + fit(str(line.overdue) if line.overdue else "", 10, right=True) + " "),
                Input(id=f"meeting-paid-{n}", compact=True, classes="meeting-paid",
                      placeholder="0"),
                Label(" " + line.name, classes="meeting-khmer"),
                classes="meeting-row")
            widgets.append(row)
        await rows.mount_all(widgets)
        if widgets:
            self.query_one("#meeting-paid-0", Input).focus()
        self._totals()

    def _typed(self) -> tuple[list[_Paid], list[str]]:
        paid, problems = [], []
        for n, line in enumerate(self.lines):
            text = self.query_one(f"#meeting-paid-{n}", Input).value.strip()
            if not text:
                continue
            try:
                value = Money.parse(text, line.payoff.currency)
            except (ValueError, TypeError) as exc:
                problems.append(f"{line.family_ref}: {exc}")
                continue
            if value.amount < 0 or value > line.payoff:
                problems.append(f"{line.family_ref}: {value} is more than the payoff "
                                f"{line.payoff}")
            elif value.amount > 0:
                paid.append(_Paid(line, value))
        return paid, problems

    def _totals(self) -> None:
        paid, problems = self._typed()
        if not self.lines:
            self.query_one("#meeting-totals", Static).update("No active loans to collect.")
            return
        cur = self.lines[0].due.currency
        expected = sum((x.expected.amount for x in self.lines), Money.zero(cur).amount)
        got = sum((p.amount.amount for p in paid), Money.zero(cur).amount)
        text = (f"Expected {Money(expected, cur)}   typed {Money(got, cur)} from "
                f"{counted(len(paid), 'family', 'families')}   ctrl+s posts all")
        if problems:
            text += "\n" + "\n".join(problems)
        if self.posted:
            text += "\n" + self.posted
        self.query_one("#meeting-totals", Static).update(text)

    @on(Input.Changed, ".meeting-paid")
    def _changed(self, event: Input.Changed) -> None:
        if event.value:
            self.posted = ""
        self._totals()

    def action_next_row(self) -> None:
        """Enter in a Paid field moves to the next family's (other fields keep their Enter)."""
        focused = self.focused
        if not (isinstance(focused, Input) and focused.has_class("meeting-paid")):
            raise SkipAction()
        self.focus_next()

    def action_fill_expected(self) -> None:
        for n, line in enumerate(self.lines):
            field = self.query_one(f"#meeting-paid-{n}", Input)
            if not field.value.strip() and line.expected:
                field.value = line.expected.plain()

    @work(exclusive=True, group="meeting-post", exit_on_error=False)
    async def action_post(self) -> None:
        paid, problems = self._typed()
        if problems or not paid:
            self.notify("\n".join(problems) or "Nothing typed to post.", severity="warning")
            return
        try:
            on_day = date.fromisoformat(self.query_one("#meeting-date", Input).value.strip())
        except ValueError:
            self.notify("Paid on: write the date as YYYY-MM-DD", severity="error")
            return
        total = Money(sum((p.amount.amount for p in paid), Money.zero("KHR").amount), "KHR")
        village = self.query_one("#meeting-village", Select).value
        name = f"in {self.village_names[village]}" if isinstance(village, int) else ""
        what = f"Post {counted(len(paid), 'repayment')} totalling {total} {name}, "
        if await self.app.push_screen_wait(ConfirmDialog(
                "Post this meeting?", f"{what}paid on {on_day}, in one transaction.",
                confirm="Post")):
            self._post(paid, on_day, total)

    @work(thread=True, exclusive=True, group="meeting-save", exit_on_error=False)
    def _post(self, paid: list[_Paid], on_day: date, total: Money) -> None:
        with self.fsf.write_session() as session:
            count = post_meeting(session, actor=self.ctx.user, paid=paid, on=on_day,
                                 today=self.ctx.today)
        self.post_message(self.MeetingPosted(count, total, on_day))

    @on(MeetingPosted)
    def _posted(self, event: MeetingPosted) -> None:
        self.posted = (f"✔ Posted {counted(event.count, 'repayment')}, {event.total}, paid on "
                       f"{event.on}, in one transaction.")
        self._pick()
