"""What every area and page shares: the top bar, the footer, Escape to go back from a page,
and worker failures turned into an error dialog instead of a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from tui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from tui.app import FsfApp, LedgerContext

__all__ = ["LedgerScreen", "PageScreen"]


class LedgerScreen(Screen[None]):
    """An area of the app. Subclasses set `AREA` and implement `body()`."""

    AREA: ClassVar[str] = ""

    @property
    def fsf(self) -> FsfApp:
        """The app, typed."""
        from tui.app import FsfApp

        return cast(FsfApp, self.app)

    @property
    def ctx(self) -> LedgerContext:
        """The ledger, the day and who acts."""
        return self.fsf.ledger

    def compose(self) -> ComposeResult:
        yield TopBar(self.AREA)
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        """The screen's own widgets, between the top bar and the footer."""
        yield from ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.fsf.report_failure(event.worker.error)


class PageScreen(LedgerScreen):
    """A page opened over an area (a family, a loan): Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="page.back"),
    ]

    def action_back(self) -> None:
        self.dismiss(None)
