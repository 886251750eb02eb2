"""What every area and page shares: the top bar, the footer, Escape to go back from a page
(and, in an area, to leave a typed field for the area's list),
failures (of workers, message handlers and actions) turned into an error dialog instead of a
crash, and a redraw when the acting user changed while the screen was hidden."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ledger.actor import Actor
from tui.dialogs.failure import is_fatal
from tui.widgets.key_footer import KeyFooter
from tui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from tui.app import FsfApp, LedgerContext

__all__ = ["LedgerScreen", "PageScreen"]


class LedgerScreen(Screen[None]):
    """An area of the app. Subclasses set `AREA` and implement `body()`."""

    AREA: ClassVar[str] = ""
    # The widget (a selector) Escape moves to from a typed field: the area's list or picker,
    # where the area keys (1–0), u and q work again; a field takes every key typed in it.
    # Empty: Escape does nothing here.
    LEAVE_TO: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_field", "Leave the field", id="area.leave_field"),
    ]
    _acting: Actor | None = None  # who the screen was last drawn for
    _froze = False  # whether its first drawing moved the heap out of the collector's reach

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
        self._acting = self.ctx.actor
        yield TopBar(self.AREA)
        yield from self.body()
        yield KeyFooter()

    def body(self) -> ComposeResult:
        """The screen's own widgets, between the top bar and the footer."""
        yield from ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return bool(self.LEAVE_TO)
        return super().check_action(action, parameters)

    def action_leave_field(self) -> None:
        """Escape: from a typed field to the area's list (`LEAVE_TO`)."""
        self.query_one(self.LEAVE_TO).focus()

    @property
    def is_area(self) -> bool:
        """Whether this is an area (the bottom of a mode's stack, kept until the app quits)
        rather than a page opened over one."""
        stacks = getattr(self.app, "_screen_stacks", None)  # Textual's per-mode stacks
        return isinstance(stacks, dict) and any(stack and stack[0] is self
                                                 for stack in stacks.values())

    def on_mount(self) -> None:
        # Once an area is drawn, nearly all the app holds (modules, SQLAlchemy's and Textual's
        # objects, the areas) lives until it quits. Without this, each full collection walks
        # all of it: a pause of 100 ms or more inside a keypress every few dozen keys. Only an
        # area: a page, dismissed later, must stay collectable.
        if self.is_area:
            self._froze = True
            self.call_after_refresh(gc.freeze)

    def on_unmount(self) -> None:
        # The app is closing: what it held may be collected again (tests run many apps in
        # one process).
        if self._froze:
            gc.unfreeze()

    async def _dispatch_message(self, message: Message) -> None:
        # A handler of this screen that raises would stop its message loop and end the app;
        # show the failure instead and keep the screen answering.
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            if isinstance(message, events.Compose) or is_fatal(error):
                raise
            self.fsf.report_failure(error, where=f"{type(message).__name__} on {self.AREA}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None \
                and not worker.exit_on_error:  # those reach FsfApp._handle_exception instead
            self.fsf.report_failure(worker.error, where=f"worker {worker.name} on {self.AREA}")

    def on_screen_resume(self) -> None:
        if self.ctx.actor == self._acting:
            return
        # Another user signed in while this screen was hidden: what it shows (the top bar,
        # a treasurer's villages, what may be approved) may differ for them.
        self._acting = self.ctx.actor
        for bar in self.query(TopBar):
            bar.refresh_text()
        reload = getattr(self, "reload", None)
        if callable(reload):
            reload()


class PageScreen(LedgerScreen):
    """A page opened over an area (a family, a loan): Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="page.back"),
    ]

    def action_back(self) -> None:
        self.dismiss(None)
