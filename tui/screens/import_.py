"""Import any kind `fsf import` takes, from a spreadsheet. Preview validates the whole file
(nothing is written) and lists every row and every problem with its row, column and value;
Import, offered only for a valid preview, commits it in one transaction with a progress bar.
Both run in workers with their own sessions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from tui.screens.base import PageScreen

if TYPE_CHECKING:
    from imports import ImportPreview, ImportResult, Problem

__all__ = ["IMPORT_KINDS", "ImportScreen"]

# Every kind of `imports.api.KINDS`, spelled out so opening the app does not load the readers.
IMPORT_KINDS = ("families", "loans", "repayments", "collection", "courses", "enrollments",
                "followups", "reschedules", "writeoffs", "recoveries", "capital", "grants",
                "reversals", "households")
_STATUS_STYLE = {"new": "green", "unchanged": "dim", "error": "bold red"}


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

    def body(self) -> ComposeResult:
        with Horizontal(id="import-pick"):
            yield Label("Kind ", classes="import-label")
            yield Select([(k, k) for k in IMPORT_KINDS], value="families", allow_blank=False,
                         id="import-kind", compact=True)
            yield Label(" File ", classes="import-label")
            yield Input(id="import-path", placeholder="families.xlsx or .csv", compact=True)
        with Horizontal(id="import-actions"):
            yield Button("Preview (ctrl+r)", id="import-preview", compact=True)
            yield Button("Import (ctrl+s)", id="import-commit", variant="primary",
                         disabled=True, compact=True)
            yield ProgressBar(id="import-progress", show_eta=False)
        yield Static("Choose the kind and the file, then Preview.", id="import-summary")
        yield Label("Rows", classes="import-section")
        yield DataTable(id="import-rows", cursor_type="row", zebra_stripes=True)
        yield Label("Problems", classes="import-section")
        yield DataTable(id="import-problems", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#import-rows", DataTable).add_columns("Row", "Ref", "Status", "Why")
        self.query_one("#import-problems", DataTable).add_columns(
            "Row", "Column", "Value", "Message")
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
        rows = self.query_one("#import-rows", DataTable)
        rows.clear()
        for r in p.rows:
            rows.add_row(str(r.row), r.ref, Text(r.status, style=_STATUS_STYLE.get(r.status, "")),
                         r.message)
        self._show_problems(p.problems)
        name = p.path.name
        if p.problems:
            self._say(Text(f"{name}: {len(p.problems)} problem(s) in {len(p.rows)} {p.kind} "
                           "row(s). Correct the file and preview it again; nothing can be "
                           "imported yet.", style="red"))
        elif p.created == 0:
            self._say(f"{name}: all {p.unchanged} {p.kind} are already in the ledger exactly "
                      "as in the file; nothing to import.")
        else:
            self._say(Text(f"{name}: valid. {p.created} new {p.kind} to import, {p.unchanged} "
                           "already in the ledger. Import with ctrl+s.", style="green"))
        self.query_one("#import-commit", Button).disabled = not (p.valid and p.created > 0)

    def _show_problems(self, problems: tuple[Problem, ...]) -> None:
        table = self.query_one("#import-problems", DataTable)
        table.clear()
        for pr in problems:
            table.add_row("file" if pr.row is None else str(pr.row), pr.column or "",
                          pr.value, pr.message)

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
        self._say(f"Importing {p.created} {p.kind}…")
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
            self._say(Text(f"{name}: imported {r.created} new {kind} (created {r.created}, "
                           f"unchanged {r.unchanged}).", style="green"))
        else:
            self._show_problems(r.problems)
            self._say(Text(f"{name}: nothing was imported: {len(r.problems)} problem(s).",
                           style="red"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # LedgerScreen's handler also runs (Textual calls each class's): it shows the dialog.
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#import-preview", Button).disabled = False
            self._say(Text("Stopped: nothing was imported.", style="red"))
