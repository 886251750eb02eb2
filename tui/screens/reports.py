"""Reports: portfolio quality (with ageing and PAR), loan-loss reserve, fund position, villages,
training outcomes — each as of a day you can change. Each runs in a worker with its own
session, so a big ledger never freezes the screen."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static

from tui.screens.base import LedgerScreen
from tui.widgets.report_view import render_report

__all__ = ["REPORTS", "ReportsScreen"]

# (title, module, function): every report takes session, actor and as_of.
REPORTS: tuple[tuple[str, str, str], ...] = (
    ("Portfolio quality and ageing", "ledger.reports.portfolio", "portfolio_quality"),
    ("Loan-loss reserve", "ledger.reports.reserve", "loan_loss_reserve"),
    ("Fund position", "ledger.reports.fund", "fund_position"),
    ("Villages", "ledger.reports.villages", "villages_report"),
    ("Training outcomes", "ledger.reports.training", "skill_outcomes"),
    ("Follow-ups due", "ledger.reports.training", "follow_ups_due"),
)


class ReportsScreen(LedgerScreen):
    """Pick a report and a day; the report appears beside the list."""

    AREA = "Reports"
    CSS_PATH = "reports.tcss"
    LEAVE_TO = "#reports-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+d", "focus_date", "As of", id="reports.as_of"),
    ]

    class ReportLoaded(Message):
        """A report was computed."""

        def __init__(self, title: str, report: Any, view: RenderableType) -> None:
            self.title, self.report, self.view = title, report, view
            super().__init__()

    def body(self) -> ComposeResult:
        with Horizontal(id="reports-pick"):
            yield Label("As of ")
            yield Input(self.ctx.today.isoformat(), id="reports-as-of", compact=True)
            yield Static("", id="reports-problem")
        with Horizontal(id="reports-main"):
            yield OptionList(*(title for title, _, _ in REPORTS), id="reports-list")
            with VerticalScroll(id="reports-scroll"):
                yield Static("Choose a report (Enter).", id="reports-view")

    def on_mount(self) -> None:
        self.query_one("#reports-list", OptionList).focus()

    def action_focus_date(self) -> None:
        self.query_one("#reports-as-of", Input).focus()

    def _as_of(self) -> date | None:
        text = self.query_one("#reports-as-of", Input).value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.query_one("#reports-problem", Static).update(
                Text(" write the date as YYYY-MM-DD", style="red"))
            return None

    @on(OptionList.OptionSelected, "#reports-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.run_report(event.option_index)

    @on(Input.Submitted, "#reports-as-of")
    def _date_given(self) -> None:
        index = self.query_one("#reports-list", OptionList).highlighted
        if index is not None:
            self.run_report(index)
        self.query_one("#reports-list", OptionList).focus()

    def run_report(self, index: int) -> None:
        """Compute report number `index` as of the day typed."""
        as_of = self._as_of()
        if as_of is None:
            return
        self.query_one("#reports-problem", Static).update("")
        title = REPORTS[index][0]
        self.query_one("#reports-view", Static).update(f"Computing {title} as of {as_of}…")
        self._compute(index, as_of)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _compute(self, index: int, as_of: date) -> None:
        title, module, name = REPORTS[index]
        report_fn = getattr(importlib.import_module(module), name)
        with self.fsf.read_session() as session:
            report = report_fn(session, actor=self.ctx.user, as_of=as_of)
        heading = f"{title} as of {as_of}"
        self.post_message(self.ReportLoaded(heading, report, render_report(report, heading)))

    @on(ReportLoaded)
    def _loaded(self, event: ReportLoaded) -> None:
        self.query_one("#reports-view", Static).update(event.view)
