"""Dashboard: the as-of date; the portfolio report's figures (portfolio, PAR30, on-time and
cumulative repayment rates), fund cash, amounts due this month; what needs attention (what
waits for an approver, loans not yet paid out, loans at risk); money lent and collected by
month.

The screen paints at once with "computing…" where figures will go; a thread worker computes
them part by part after the first paint, each part shown as it arrives, so nothing that grows
with the ledger stands between starting the app and seeing it. The portfolio figures, the
heaviest part, are computed on a session of their own beside the others: the database drivers
let go of the interpreter while a query runs, so on two cores a million loans' figures all
arrive after 25-28 s instead of 36-37 s (bench/RESULTS.md). On PostgreSQL the figures' queries
run without parallel workers (`in_background`), leaving a core to the keys; on either
database the figures' threads run at a lower priority than the app's (`tui.lowered`). A newer
load (ctrl+r, another user) stops the queries of the one it supersedes, as quitting stops them
all (`ledger.db.interrupt`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, get_current_worker

from ledger.db.engine import in_background, seen_by_every_connection
from ledger.db.interrupt import NewestReads, Reads
from tui.lowered import lowered_pool, run_lowered
from tui.screens.base import LedgerScreen
from tui.widgets.bar_chart import PairedBars
from tui.widgets.cells import counted

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tui.screens.data import dashboard as data

__all__ = ["COMPUTING", "DashboardScreen"]

COMPUTING = "computing…"  # shown until every part of the figures has arrived
# The parts in the order the worker computes them: the cheap ones first.
PARTS = ("waiting", "due", "cash", "flows", "quality", "at_risk")
LIGHT = ("waiting",)  # recomputed on every return to the dashboard
BESIDE = "quality"  # computed on a second session while the worker does the rest


class DashboardScreen(LedgerScreen):
    """The first screen: how the fund stands today and what needs doing."""

    AREA = "Dashboard"
    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reload", "Refresh", id="dashboard.refresh"),
    ]

    class PartLoaded(Message):
        """One part of the dashboard's figures was computed (`name` among PARTS, or "done"
        with the ledger's stamp once all of them were)."""

        def __init__(self, name: str, value: Any) -> None:
            self.name, self.value = name, value
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self._parts: dict[str, Any] = {}
        self._stamp: tuple[int, int, int] | None = None  # the ledger the figures are of
        self._loading = False
        self._began = False
        self._reads = NewestReads()  # the reads of the load under way

    def body(self) -> ComposeResult:
        with Horizontal(id="dashboard-top"):
            yield Static(COMPUTING, id="dashboard-figures")
            yield OptionList(Option(COMPUTING, disabled=True), id="dashboard-attention")
        with VerticalScroll(id="dashboard-chart-box"):
            yield PairedBars(("lent", "collected"), width=28, id="dashboard-chart")

    def on_mount(self) -> None:
        self.query_one("#dashboard-attention", OptionList).border_title = "Needs attention"
        self._show()
        # After the first paint: the worker's imports and queries must not delay it.
        self.call_after_refresh(self._first_load)

    def _first_load(self) -> None:
        self._began = True
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        if not self._began:  # shown for the first time: the first load is on its way
            return
        if self.ctx.actor != self._acting:
            super().on_screen_resume()  # another user: everything again, for them
        elif not self._loading:
            # Back from a page where something may have been proposed, approved or paid:
            # what waits is read again; the rest only if the ledger moved.
            self.reload(only_if_changed=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard")
    def reload(self, only_if_changed: bool = False) -> None:
        """Compute the figures again, part by part (with `only_if_changed`, the heavy parts
        only when the ledger moved since they were computed)."""
        worker = get_current_worker()
        # A load still under way (ctrl+r, or another user) is superseded: its queries stop
        # now rather than take the cores for as long as a million loans' figures take.
        with self._reads.begin() as mine:
            # On a thread of its own at a lower priority: see `tui.lowered`.
            run_lowered(lambda: self._load(worker, mine, only_if_changed), "dashboard")

    def _load(self, worker: Worker[None], mine: Reads, only_if_changed: bool) -> None:
        # Imported here, in the worker: the queries' modules (the table classes, the ORM) load
        # after the first paint instead of before it.
        from tui.screens.data import dashboard as data

        actor, today = self.ctx.user, self.ctx.today
        compute: dict[str, Callable[[Session], object]] = {
            "waiting": lambda session: data.waiting(session, actor),
            "due": lambda session: data.due_this_month(session, actor, today),
            "cash": lambda session: data.fund_cash(session, actor, today),
            "flows": lambda session: data.monthly_flows(session, actor, today),
            "quality": lambda session: data.portfolio_figures(session, actor, today),
            "at_risk": lambda session: data.at_risk(session, actor, today),
        }

        def part(name: str, session: Session) -> None:
            value = compute[name](session)
            if not worker.is_cancelled:  # else a newer load has begun: it shows its own
                self.post_message(self.PartLoaded(name, value))

        def beside() -> None:
            with self.fsf.read_session() as own, mine.watch(own):
                part(BESIDE, in_background(own))

        with self.fsf.read_session() as session, mine.watch(session):
            in_background(session)
            stamp = data.ledger_stamp(session)
            names = LIGHT if only_if_changed and stamp == self._stamp else PARTS
            if names != PARTS:
                for name in names:
                    part(name, session)
                return
            self._loading = True
            self.post_message(self.PartLoaded("start", None))
            apart = seen_by_every_connection(self.fsf.ledger.engine)
            try:
                with lowered_pool(1, "dashboard-portfolio") as pool:
                    other = pool.submit(beside) if apart else None
                    for name in names:
                        if worker.is_cancelled:
                            return
                        if other is None or name != BESIDE:
                            part(name, session)
                    if other is not None:
                        other.result()  # its failure is the worker's
                if not worker.is_cancelled:
                    self.post_message(self.PartLoaded("done", stamp))
            finally:
                if self._reads.current is mine:  # a superseded load leaves it to the newer
                    self._loading = False

    @on(PartLoaded)
    def _loaded(self, event: PartLoaded) -> None:
        if event.name == "start":
            self._parts = {k: v for k, v in self._parts.items() if k in LIGHT}
        elif event.name == "done":
            self._stamp = event.value
        else:
            self._parts[event.name] = event.value
        self._show()

    # --- drawing -------------------------------------------------------------------------

    def _show(self) -> None:
        self.query_one("#dashboard-figures", Static).update(self._figures())
        self._show_attention()
        chart = self.query_one(PairedBars)
        if "flows" in self._parts:
            chart.show(self._parts["flows"])
        else:
            chart.update("")

    def _figures(self) -> Group:
        p = self._parts
        q: data.Quality | None = p.get("quality")

        def grid(rows: list[tuple[str, str]]) -> Table:
            table = Table.grid(padding=(0, 1), expand=True)
            table.add_column(style="bold", no_wrap=True)
            table.add_column(justify="right", no_wrap=True)
            for label, value in rows:
                table.add_row(label, value)
            return table

        wait = "…"
        head = [("As of", f"{self.ctx.today}"),
                ("Portfolio", str(q.portfolio) if q else wait),
                ("Active loans", f"{q.active_loans:,}" if q else wait),
                ("PAR30", str(q.par30) if q else wait),
                ("  " + counted(q.par30_loans, "loan") if q else "", q.par30_rate if q else ""),
                (f"On time, {self.ctx.today:%b}", q.on_time_rate if q else wait)]
        cash = p.get("cash", wait)
        tail = [("Repaid to date", q.repaid_rate if q else wait),
                ("Fund cash", "–" if cash is None else str(cash)),
                ("Due this month", str(p["due"]) if "due" in p else wait)]
        parts: list[Any] = [grid(head)]
        if q:
            parts.append(Text(f"{q.paid_on_time} of {q.due_in_period}", style="dim",
                              justify="right", no_wrap=True, overflow="ellipsis"))
        parts.append(grid(tail))
        if any(name not in p for name in PARTS):
            parts.append(Text(COMPUTING, style="italic"))
        return Group(*parts)

    def _show_attention(self) -> None:
        p = self._parts
        options: list[Option] = []
        if "waiting" in p:
            w: data.Waiting = p["waiting"]
            if w.approvals:
                options.append(Option(f"{w.approvals} waiting for approval (Approvals, key 0)",
                                      id="approvals:0"))
            options += [Option(f"{a.label}: {a.why}", id=f"{a.kind}:{a.target_id}")
                        for a in w.loans]
            if w.loans_total > len(w.loans):
                options.append(Option(f"… and {counted(w.loans_total - len(w.loans), 'more loan')} "
                                       "awaiting approval or disbursement", disabled=True))
        if "at_risk" in p:
            r: data.AtRisk = p["at_risk"]
            options += [Option(f"{a.label}: {a.why}", id=f"{a.kind}:{a.target_id}")
                        for a in r.loans]
            if r.total > len(r.loans):
                more = counted(r.total - len(r.loans), "more loan")
                options.append(Option(f"… and {more} at risk", disabled=True))
        if "waiting" not in p or "at_risk" not in p:
            options.append(Option(COMPUTING, disabled=True))
        elif not options:
            options.append(Option("Nothing needs attention", disabled=True))
        box = self.query_one("#dashboard-attention", OptionList)
        highlighted = box.highlighted
        box.clear_options()
        box.add_options(options)
        if highlighted is not None and highlighted < len(options):
            box.highlighted = highlighted

    @on(OptionList.OptionSelected, "#dashboard-attention")
    def _open(self, event: OptionList.OptionSelected) -> None:
        kind, _, target = (event.option.id or "").partition(":")
        if kind == "approvals":
            self.fsf.switch_mode("approvals")
        elif kind == "loan":
            self.fsf.open_loan(int(target))
        elif kind == "family":
            self.fsf.open_family(int(target))
