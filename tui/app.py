"""The FSF Ledger terminal app: `make_app(engine=..., today=..., actor=...)` builds it with
everything injected; nothing is opened at import time.

Areas are Textual MODES (one screen per file under `tui/screens/`); pages (a family, a loan,
the new-loan form) are pushed over an area. Database work runs in thread workers with their own
sessions. A failure in a worker, a message handler or an action becomes an error dialog
(`report_failure`) and the app carries on; a fault's traceback goes to the error log for
support. Only failures that leave the app unable to draw (`is_fatal`) end it, Textual's way.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerFailed, WorkerState

from ledger.actor import Actor
from ledger.db import read_only
from ledger.db.interrupt import Reads
from tui.dialogs import ConfirmDialog, ErrorDialog
from tui.dialogs.failure import (
    failure_dialog,
    failure_log_path,
    is_expected,
    is_fatal,
    write_failure_log,
)
from tui.stylesheet import ParsedOnce

if TYPE_CHECKING:  # the ORM loads when first used, after the first paint
    from sqlalchemy.orm import Session

__all__ = ["AREAS", "FsfApp", "LedgerContext", "make_app"]


@dataclass
class LedgerContext:
    """The ledger the app works on, the day it takes as today, who acts (None until someone
    logs in), and the file that keeps the tracebacks of unexpected failures."""

    engine: sa.Engine
    today: date
    actor: Actor | None
    name: str = "FSF Ledger"
    error_log: Path | None = None
    # The name given with --user (or FSF_USER) when a login is still asked: the sign-in form
    # starts with it, so only the password is typed.
    user_name: str | None = None

    @property
    def user(self) -> Actor:
        """The acting user (the login screen runs before anything needs one)."""
        assert self.actor is not None, "nobody has logged in"
        return self.actor


def _area(module: str, cls: str) -> Callable[[], Screen[Any]]:
    def make() -> Screen[Any]:
        import importlib

        screen: Screen[Any] = getattr(importlib.import_module(f"tui.screens.{module}"), cls)()
        return screen

    return make


# (mode, key, title, module, class): the top-level areas, in the order of their keys.
AREAS: tuple[tuple[str, str, str, str, str], ...] = (
    ("dashboard", "1", "Dashboard", "dashboard", "DashboardScreen"),
    ("families", "2", "Families", "families", "FamiliesScreen"),
    ("loans", "3", "Loans", "loans", "LoansScreen"),
    ("meeting", "4", "Village meeting", "meeting", "MeetingScreen"),
    ("villages", "5", "Villages", "villages", "VillagesScreen"),
    ("training", "6", "Training", "training", "TrainingScreen"),
    ("projections", "7", "Projections", "projections", "ProjectionsScreen"),
    ("reports", "8", "Reports", "reports", "ReportsScreen"),
    ("journal", "9", "Journal", "journal", "JournalScreen"),
    ("approvals", "0", "Approvals", "approvals", "ApprovalsScreen"),
)
_AREA_KEYS = Binding.Group("Areas", compact=True)


class FsfApp(App[None]):
    """FSF Ledger: families, loans, repayments, village meetings, reports, the journal."""

    TITLE = "FSF Ledger"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        mode: _area(module, cls) for mode, _, _, module, cls in AREAS
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"switch_mode('{mode}')", title, id=f"app.area.{mode}",
                  group=_AREA_KEYS) for mode, key, title, _, _ in AREAS),
        Binding("f1,question_mark", "help", "Help", id="app.help", key_display="F1"),
        Binding("e", "export", "Export", id="app.export"),
        Binding("i", "import", "Import", id="app.import"),
        Binding("u", "switch_user", "Switch user", id="app.switch_user", show=False),
        Binding("ctrl+t", "toggle_theme", "Light/dark", id="app.theme", show=False),
        Binding("q,ctrl+q", "quit", "Quit", id="app.quit", key_display="q"),
    ]

    def __init__(self, ledger: LedgerContext) -> None:
        super().__init__()
        self.stylesheet = ParsedOnce(variables=self.get_css_variables())  # tui.stylesheet
        self.ledger = ledger
        self.theme = "textual-dark"
        # Every area's rules are read at start: new CSS would make a first visit restyle all.
        self.css_path.extend(Path(__file__).parent / "screens" / f"{module}.tcss"
                             for *_, module, _ in AREAS)
        self.last_village: int | None = None  # the village meeting opens on it next time
        # The read sessions' connections: quitting stops their reads instead of waiting for
        # them (a dashboard figure of a million loans is a query of 15 s and more).
        self.reads = Reads()

    def action_command_palette(self) -> None:
        """The command palette (ctrl+p), with the ledger's providers: imported on first use,
        since they load the table classes the first screen does not need."""
        from tui.providers import PROVIDERS

        self.COMMANDS = App.COMMANDS | set(PROVIDERS)  # type: ignore[misc]
        super().action_command_palette()

    # --- sessions ------------------------------------------------------------------------

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading (never holds SQLite's write lock); use one per worker."""
        from sqlalchemy.orm import Session

        with Session(read_only(self.ledger.engine), expire_on_commit=False) as session, \
                self.reads.watch(session):
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session for a use case; services commit their own transaction."""
        from sqlalchemy.orm import Session

        with Session(self.ledger.engine, expire_on_commit=False) as session:
            yield session

    # --- start ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        # What is loaded by now lives until the app quits: kept out of the collector's full
        # passes, which would walk it inside the first area's drawing (see LedgerScreen).
        gc.freeze()
        # A new, empty ledger (no fund opened yet) is set up first. Asked in plain SQL, here
        # only: the first screen waits for neither the ORM nor the table classes.
        with read_only(self.ledger.engine).connect() as connection:
            empty = connection.execute(sa.text("SELECT id FROM fund LIMIT 1")).first() is None
        if empty:
            from tui.screens.setup import SetupScreen

            self.push_screen(SetupScreen(), callback=lambda _: self._sign_in())
        else:
            self._sign_in()

    def _sign_in(self) -> None:
        if self.ledger.actor is None:
            from tui.screens.login import LoginScreen

            self.push_screen(LoginScreen(name=self.ledger.user_name),
                             callback=lambda _: self._start())
        else:
            self._start()

    def _start(self) -> None:
        """Open the first area once someone acts (after setup and login when needed)."""
        self.switch_mode("dashboard")

    def refresh_screens(self) -> None:
        """Redraw what depends on the ledger or the user (after login or setup)."""
        from tui.widgets.top_bar import TopBar

        for bar in self.screen.query(TopBar):
            bar.refresh_text()
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            reload()

    # --- failures ------------------------------------------------------------------------

    def report_failure(self, error: BaseException, *, where: str = "") -> None:
        """Show a failure as a dialog: a refusal or a busy ledger in its own words (see
        `is_expected`); any other error with its traceback appended to the error log first."""
        log = None
        if not is_expected(error) and self.ledger.error_log:
            log = write_failure_log(self.ledger.error_log, error, where=where)
        dialog = failure_dialog(error, log)
        shown = self.screen
        if isinstance(shown, ErrorDialog) and shown.message == dialog.message:
            return  # the same failure again (a handler run once per refresh): one dialog is enough
        self.push_screen(dialog)

    async def _dispatch_message(self, message: Message) -> None:
        # Keys run actions here: a failing action or app-level handler shows a dialog instead
        # of ending the app (Textual would stop this message loop and exit).
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            # The app failing to start (Compose, Mount) has nothing to carry on with.
            if isinstance(message, events.Compose | events.Mount) or is_fatal(error):
                raise
            self.report_failure(error, where=f"{type(message).__name__} in the app")

    def _handle_exception(self, error: Exception) -> None:
        # A worker started without exit_on_error=False lands here: show it, do not exit.
        if isinstance(error, WorkerFailed) and not is_fatal(error.error):
            self.report_failure(error.error, where="a worker")
            return
        super()._handle_exception(error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None \
                and not worker.exit_on_error:  # those reach _handle_exception instead
            self.report_failure(worker.error, where=f"worker {worker.name}")

    def on_unmount(self) -> None:
        # Closing: the screens' workers are cancelled; the reads they still run are stopped,
        # so the threads end now and the terminal is given back at once.
        self.reads.stop()
        gc.unfreeze()  # what the app held may be collected again (tests run many apps)

    # --- actions -------------------------------------------------------------------------

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def action_switch_user(self) -> None:
        """Sign in as another user (the approver of what this one proposed); Escape keeps the
        current user."""
        from tui.screens.login import LoginScreen

        if self.ledger.actor is None or isinstance(self.screen, LoginScreen):
            return
        was = self.ledger.actor.name

        def switched(actor: Actor | None) -> None:
            if actor is not None and actor.name != was:
                # Each area redraws for the new user when it is shown again (LedgerScreen).
                self.notify(f"Now acting as {actor.name} (was {was}).", title="Switched user")

        self.push_screen(LoginScreen(switching=True), callback=switched)

    def _open_screens(self) -> list[Screen[Any]]:
        """Every screen the app holds: each area's stack, not only the one shown (an area
        left with unsaved edits keeps them until the app quits)."""
        stacks = getattr(self, "_screen_stacks", None)  # Textual's per-mode stacks
        if not isinstance(stacks, dict):
            return list(self.screen_stack)
        return [screen for stack in stacks.values() for screen in stack]

    async def action_quit(self) -> None:
        """Quit (q, ctrl+q); when a screen has unsaved edits (its `dirty`), ask first."""
        self._quit_asking()

    @work(exclusive=True, group="app-quit", exit_on_error=False)
    async def _quit_asking(self) -> None:
        if isinstance(self.screen, ConfirmDialog):
            return  # already asking
        unsaved = [s for s in self._open_screens() if getattr(s, "dirty", False)]
        if unsaved:
            where = ", ".join(dict.fromkeys(getattr(s, "AREA", "") or type(s).__name__
                                            for s in unsaved))
            if not await self.push_screen_wait(ConfirmDialog(
                    "Quit without saving?", f"Unsaved edits ({where}) will be lost. "
                    "(Cancel, then ctrl+s, to keep them.)", confirm="Quit")):
                return
        self.exit()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_export(self) -> None:
        """Open the export page (a workbook, a printable or a CSV file)."""
        from tui.screens.export import ExportScreen

        if self.ledger.actor is not None and not isinstance(self.screen, ExportScreen):
            self.push_screen(ExportScreen())

    def action_import(self) -> None:
        """Open the import page (families, loans or repayments from a spreadsheet)."""
        from tui.screens.import_ import ImportScreen

        if self.ledger.actor is not None and not isinstance(self.screen, ImportScreen):
            self.push_screen(ImportScreen())

    def open_family(self, family_id: int) -> None:
        """Open a family's page over the current area."""
        from tui.screens.family import FamilyScreen

        self.push_screen(FamilyScreen(family_id))

    def open_loan(self, loan_id: int) -> None:
        """Open a loan's page over the current area."""
        from tui.screens.loan import LoanScreen

        self.push_screen(LoanScreen(loan_id))

    def open_village(self, village_id: int) -> None:
        """Open a village's families and loans over the current area."""
        from tui.screens.village import VillageScreen

        self.push_screen(VillageScreen(village_id))

    def new_loan(self, family_id: int) -> None:
        """Open the new-loan form for a family."""
        from tui.screens.new_loan import NewLoanScreen

        self.push_screen(NewLoanScreen(family_id))


def make_app(*, engine: sa.Engine, today: date, actor: Actor | None,
             name: str | None = None, user_name: str | None = None) -> FsfApp:
    """The app on `engine`, taking `today` as today, acting as `actor` (None: ask for a login
    first, its form filled in with `user_name`). Opens nothing until it runs."""
    return FsfApp(LedgerContext(engine=engine, today=today, actor=actor,
                                name=name or "FSF Ledger",
                                error_log=failure_log_path(engine.url), user_name=user_name))
