"""Import any kind `fsf import` takes, from a spreadsheet. Preview validates the whole file
(nothing is written) and lists every row and every problem with its row, column and value;
the full text of the one under the cursor shows below the lists. Import, offered only for a
valid preview, commits it in one transaction with a progress bar. Both run in workers with
their own sessions; the lists draw only the lines on screen, so a file of 100,000 rows is
listed at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from tui.screens.base import PageScreen
from tui.widgets.cells import counted
from tui.widgets.paged_table import Column, ListSource, PagedTable

if TYPE_CHECKING:
    from imports import ImportPreview, ImportResult, Problem, RowOutcome

__all__ = ["ImportScreen"]

_STATUS_STYLE = {"new": "green", "imported": "green", "unchanged": "dim", "error": "bold red"}
_ROW_COLUMNS = (Column("Row", 7, right=True), Column("Ref", 22), Column("Status", 9),
                Column("Why"))
_PROBLEM_COLUMNS = (Column("Row", 7, right=True), Column("Column", 14), Column("Value", 18),
                    Column("Message"))


def _outcome_cells(index: int, r: RowOutcome) -> tuple[int, tuple[str, ...]]:
    return index, (str(r.row), r.ref, r.status, r.message)


def _imported_cells(index: int, r: RowOutcome) -> tuple[int, tuple[str, ...]]:
    """A row after its file was imported: a new row is now in the ledger, as the feedback
    workbook says of it (`imports.feedback`)."""
    return index, (str(r.row), r.ref, "imported" if r.status == "new" else r.status,
                   r.message)


def _problem_cells(index: int, p: Problem) -> tuple[int, tuple[str, ...]]:
    return index, ("file" if p.row is None else str(p.row), p.column or "", p.value, p.message)


def _told(p: Problem) -> str:
    """A problem's whole text (the list cuts long messages to its width)."""
    where = "The file" if p.row is None else f"Row {p.row}"
    return f"{where}{', ' + p.column if p.column else ''}: {p.message}"


def _status_style(cells: tuple[str, ...]) -> str:
    return _STATUS_STYLE.get(cells[2], "")


class ImportScreen(PageScreen):
    """Choose a kind and a file; ctrl+r previews it, ctrl+s imports a valid preview."""

    AREA = "Import"
    CSS_PATH = "import_.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "preview", "Preview", id="import.preview", priority=True),
        Binding("ctrl+s", "commit", "Import", id="import.commit", priority=True),
    ]

    class Previewed(Message):
        """The file was validated."""

        def __init__(self, preview: ImportPreview) -> None:
            self.preview = preview
            super().__init__()

    class RowsDone(Message):
        """The commit has written `done` of `total` rows."""

        def __init__(self, done: int, total: int) -> None:
            self.done, self.total = done, total
            super().__init__()

    class Committed(Message):
        """The commit finished (committed or refused)."""

        def __init__(self, result: ImportResult) -> None:
            self.result = result
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.preview: ImportPreview | None = None
        self.result: ImportResult | None = None
        self.problems: tuple[Problem, ...] = ()  # those listed, in their order
        self.kinds: list[str] = []  # what the user may import, read when the page is drawn

    def body(self) -> ComposeResult:
        from imports.permissions import allowed_kinds, importing_roles

        self.kinds = allowed_kinds(self.ctx.user)
        with Horizontal(id="import-pick"):
            yield Label("Kind ", classes="import-label")
            kinds = self.kinds or ["none allowed"]
            yield Select([(k, k) for k in kinds], value=kinds[0], allow_blank=False,
                         id="import-kind", compact=True, disabled=not self.kinds)
            yield Label(" File ", classes="import-label")
            yield Input(id="import-path", placeholder="families.xlsx or .csv", compact=True)
        with Horizontal(id="import-actions"):
            yield Button("Preview (ctrl+r)", id="import-preview", compact=True,
                         disabled=not self.kinds)
            yield Button("Import (ctrl+s)", id="import-commit", variant="primary",
                         disabled=True, compact=True)
            yield ProgressBar(id="import-progress", show_eta=False)
        roles = " or ".join(role.value for role in importing_roles())
        yield Static("Choose the kind and the file, then Preview." if self.kinds else Text(
            f"{self.ctx.user.name} may not import anything: imports need the {roles} role.",
            style="red"), id="import-summary")
        yield Label("Rows", classes="import-section")
        yield PagedTable(_ROW_COLUMNS, ListSource((), _outcome_cells), id="import-rows",
                         choosable=False, row_style=_status_style)
        yield Label("Problems", classes="import-section")
        yield PagedTable(_PROBLEM_COLUMNS, ListSource((), _problem_cells), id="import-problems",
                         choosable=False)
        yield Static("", id="import-detail")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    # --- choosing ------------------------------------------------------------------------

    def _kind(self) -> str:
        return str(self.query_one("#import-kind", Select).value)

    def _path(self) -> Path | None:
        text = self.query_one("#import-path", Input).value.strip()
        return Path(text).expanduser() if text else None

    def _forget(self) -> None:
        """A new kind or file: the old preview no longer says anything about it."""
        self.preview = None
        self.query_one("#import-commit", Button).disabled = True

    @on(Select.Changed, "#import-kind")
    @on(Input.Changed, "#import-path")
    def _changed(self) -> None:
        self._forget()

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import-preview")
    def _preview_asked(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#import-commit")
    def _commit_asked(self) -> None:
        self.action_commit()

    def _say(self, text: str | Text) -> None:
        self.query_one("#import-summary", Static).update(text)

    # --- preview -------------------------------------------------------------------------

    def action_preview(self) -> None:
        """Validate the chosen file; nothing is written."""
        if not self.kinds:  # the summary says why
            return
        path = self._path()
        if path is None:
            self._say(Text("Say which file to read.", style="red"))
            return
        self._forget()
        self.result = None
        self._say(f"Checking {path}…")
        self._validate(self._kind(), path)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _validate(self, kind: str, path: Path) -> None:
        from imports import validate

        with self.fsf.read_session() as session:
            preview = validate(kind, path, session=session, actor=self.ctx.user,
                               today=self.ctx.today)
        self.post_message(self.Previewed(preview))

    @on(Previewed)
    def _previewed(self, event: Previewed) -> None:
        p = self.preview = event.preview
        self.query_one("#import-rows", PagedTable).reload(ListSource(p.rows, _outcome_cells))
        self._show_problems(p.problems)
        name = p.path.name
        if p.problems:
            where = f" in {counted(len(p.rows), 'row')} of {p.kind}" if p.rows else ""
            self._say(Text(f"{name}: {counted(len(p.problems), 'problem')}{where}. Correct the "
                           "file and preview it again; nothing can be imported yet.",
                           style="red"))
        elif p.created == 0:
            self._say(f"{name}: all {counted(p.unchanged, 'row')} of {p.kind} are already in "
                      "the ledger exactly as in the file; nothing to import.")
        else:
            self._say(Text(f"{name}: valid. {counted(p.created, 'new row')} of {p.kind} to "
                           f"import, {p.unchanged:,} already in the ledger. Import with "
                           "ctrl+s.", style="green"))
        self.query_one("#import-commit", Button).disabled = not (p.valid and p.created > 0)

    def _show_problems(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        self.query_one("#import-problems", PagedTable).reload(
            ListSource(problems, _problem_cells))
        self.query_one("#import-detail", Static).update(_told(problems[0]) if problems else "")

    @on(PagedTable.RowHighlighted, "#import-problems")
    def _problem_under_cursor(self, event: PagedTable.RowHighlighted) -> None:
        if event.table.has_focus and event.key < len(self.problems):
            self.query_one("#import-detail", Static).update(_told(self.problems[event.key]))

    @on(PagedTable.RowHighlighted, "#import-rows")
    def _row_under_cursor(self, event: PagedTable.RowHighlighted) -> None:
        rows = self.preview.rows if self.preview is not None else ()
        if event.table.has_focus and event.key < len(rows):
            row = rows[event.key]
            self.query_one("#import-detail", Static).update(
                f"Row {row.row}: {row.message}" if row.message else "")

    # --- commit --------------------------------------------------------------------------

    def action_commit(self) -> None:
        """Import the previewed file, all or nothing."""
        p = self.preview
        if p is None or not p.valid or p.created == 0:
            self.notify("Preview a file without problems first.", severity="warning")
            return
        self.query_one("#import-commit", Button).disabled = True
        self.query_one("#import-preview", Button).disabled = True
        self.query_one("#import-progress", ProgressBar).update(total=p.created, progress=0)
        self._say(f"Importing {counted(p.created, 'row')} of {p.kind}…")
        self._commit(p)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _commit(self, preview: ImportPreview) -> None:
        from imports import commit

        def progress(done: int, total: int) -> None:
            self.post_message(self.RowsDone(done, total))

        with self.fsf.write_session() as session:
            result = commit(preview, session=session, actor=self.ctx.user, progress=progress)
        self.post_message(self.Committed(result))

    @on(RowsDone)
    def _rows_done(self, event: RowsDone) -> None:
        self.query_one("#import-progress", ProgressBar).update(total=event.total,
                                                               progress=event.done)

    @on(Committed)
    def _committed(self, event: Committed) -> None:
        r = self.result = event.result
        self.preview = None  # a preview is imported once; preview again for another run
        self.query_one("#import-preview", Button).disabled = False
        kind, name = r.preview.kind, r.preview.path.name
        if r.committed:
            self.query_one("#import-rows", PagedTable).reload(
                ListSource(r.preview.rows, _imported_cells))
            self._say(Text(f"{name}: imported {counted(r.created, 'new row')} of {kind} "
                           f"(created {r.created:,}, unchanged {r.unchanged:,}).",
                           style="green"))
        else:
            self._show_problems(r.problems)
            self._say(Text(f"{name}: nothing was imported: {counted(len(r.problems), 'problem')}"
                           ".", style="red"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # LedgerScreen's handler also runs (Textual calls each class's): it shows the dialog.
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#import-preview", Button).disabled = False
            self._say(Text("Stopped: nothing was imported.", style="red"))
