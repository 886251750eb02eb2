"""Dashboard: the as-of date; portfolio, PAR30, on-time rate, fund cash, amounts due this
month; what needs attention (first, what waits for an approver); money lent and collected by
month."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.screens.base import LedgerScreen
from tui.screens.data.overview import Dashboard, dashboard
from tui.widgets.bar_chart import PairedBars

__all__ = ["DashboardScreen"]


class DashboardScreen(LedgerScreen):
    """The first screen: how the fund stands today and what needs doing."""

    AREA = "Dashboard"
    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reload", "Refresh", id="dashboard.refresh"),
    ]

    class DashboardLoaded(Message):
        """The dashboard's figures were computed."""

        def __init__(self, figures: Dashboard, pending: int) -> None:
            self.figures, self.pending = figures, pending
            super().__init__()

    def body(self) -> ComposeResult:
        with Horizontal(id="dashboard-top"):
            yield Static("computing…", id="dashboard-figures")
            yield OptionList(id="dashboard-attention")
        with VerticalScroll(id="dashboard-chart-box"):
            yield PairedBars(("lent", "collected"), width=28, id="dashboard-chart")

    def on_mount(self) -> None:
        self.query_one("#dashboard-attention", OptionList).border_title = "Needs attention"
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        # Coming back from a page where something was proposed or approved: the figures and
        # what waits for approval may have changed.
        if self.is_mounted:
            self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Compute the figures again."""
        from ledger.approvals import list_pending

        with self.fsf.read_session() as session:
            figures = dashboard(session, self.ctx.user, self.ctx.today)
            pending = len(list_pending(session, actor=self.ctx.user))
        self.post_message(self.DashboardLoaded(figures, pending))

    @on(DashboardLoaded)
    def _loaded(self, event: DashboardLoaded) -> None:
        d = event.figures
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold")
        grid.add_column(justify="right")
        grid.add_row("As of", f"{d.as_of}")
        grid.add_row("Portfolio", str(d.portfolio))
        grid.add_row("Active loans", str(d.active_loans))
        grid.add_row("PAR30", f"{d.par30}")
        grid.add_row("", d.par30_ratio)
        grid.add_row("On time", d.on_time)
        grid.add_row("Fund cash", str(d.cash))
        grid.add_row("Due this month", str(d.due_this_month))
        self.query_one("#dashboard-figures", Static).update(grid)
        options = self.query_one("#dashboard-attention", OptionList)
        options.clear_options()
        waiting = ([Option(f"{event.pending} waiting for approval (Approvals, key 0)",
                           id="approvals:0")] if event.pending else [])
        options.add_options(waiting + [
            Option(f"{a.label}: {a.why}", id=f"{a.kind}:{a.target_id}") for a in d.attention]
            or [Option("Nothing needs attention")])
        self.query_one(PairedBars).show(d.flows)

    @on(OptionList.OptionSelected, "#dashboard-attention")
    def _open(self, event: OptionList.OptionSelected) -> None:
        kind, _, target = (event.option.id or "").partition(":")
        if kind == "approvals":
            self.fsf.switch_mode("approvals")
        elif kind == "loan":
            self.fsf.open_loan(int(target))
        elif kind == "family":
            self.fsf.open_family(int(target))
