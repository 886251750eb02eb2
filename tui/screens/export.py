"""Export: the auditor workbook, a village's collection sheet, a family's statement or one table
as CSV, written to a file you name. The file is written in a worker with its own session, with a
progress bar fed by the export's row count; a failure becomes the app's error dialog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static, Switch
from textual.worker import Worker, WorkerState

from ledger.actor import Actor, Permission
from tui.screens.base import PageScreen
from tui.widgets.cells import counted

__all__ = ["EXPORTS", "ExportJob", "ExportScreen", "default_path", "write_export"]

# (value, label): what can be exported.
EXPORTS: tuple[tuple[str, str], ...] = (
    ("ledger", "Auditor workbook"),
    ("collection", "Collection sheet (village, month)"),
    ("family", "Family statement"),
    ("csv", "CSV of a table"),
)
# What each export needs: a treasurer may write her villages' collection sheets, nothing else.
_NEEDS = {"ledger": Permission.EXPORT, "collection": Permission.COLLECTION_SHEETS,
          "family": Permission.EXPORT, "csv": Permission.EXPORT}
# The fields each export uses (the output path is always shown).
_FIELDS = {
    "ledger": ("as_of", "place", "pseudonymise"),
    "collection": ("village", "month"),
    "family": ("family", "as_of"),
    "csv": ("table", "as_of", "place", "pseudonymise"),
}
_ROWS = ("as_of", "place", "pseudonymise", "village", "month", "family", "table")


@dataclass(frozen=True, slots=True)
class ExportJob:
    """One export as chosen on the screen."""

    kind: str
    path: Path
    as_of: date
    pseudonymise: bool = False
    village: str = ""
    month: str = ""
    family_ref: str = ""
    table: str = "families"
    places: tuple[str, ...] = ()  # the workbook or table of these places only


def places_typed(text: str) -> tuple[str, ...]:
    """The place codes typed into one field, split at commas and spaces."""
    return tuple(p for p in text.replace(",", " ").split() if p)


def default_path(kind: str, *, as_of: date, village: str = "", month: str = "",
                 family_ref: str = "", table: str = "families",
                 places: tuple[str, ...] = ()) -> str:
    """A file name in the current folder that says what the file holds."""
    name = {
        "ledger": f"fsf-ledger-{'-'.join(places) + '-' if places else ''}{as_of}.xlsx",
        "collection": f"collection-{village or 'VILLAGE'}-{month}.xlsx",
        "family": f"statement-{family_ref or 'FAMILY'}-{as_of}.xlsx",
        "csv": f"{table}-{'-'.join(places) + '-' if places else ''}{as_of}.csv",
    }[kind]
    return str(Path.cwd() / name)


def write_export(session: Session, actor: Actor, job: ExportJob,
                 progress: Callable[[int], None] | None = None) -> tuple[int, str]:
    """Write `job`'s file through the exports package; (rows written, what to tell the user)."""
    if job.kind == "ledger":
        from exports.ledger_book import export_ledger

        book = export_ledger(session, actor=actor, as_of=job.as_of, path=job.path,
                             pseudonymise=job.pseudonymise, places=job.places,
                             progress=progress)
        rows = sum(n for _, n in book.sheets)
        scope = f" of {book.covers}" if book.covers else ""
        return rows, (f"Wrote {job.path}{scope}: {len(book.sheets)} sheets, {rows:,} rows, as of "
                      f"{job.as_of}; checks {'hold' if book.checks_hold else 'FAIL'}")
    if job.kind == "csv":
        from exports.csv_export import export_csv

        count = export_csv(session, actor=actor, table=job.table, path=job.path,
                           as_of=job.as_of, pseudonymise=job.pseudonymise, places=job.places,
                           progress=progress)
        where = f" in {', '.join(job.places)}" if job.places else ""
        return count, f"Wrote {job.path}: {counted(count, 'row')} of {job.table}{where}"
    from exports.printables import export_collection_sheet, export_family_statement

    if job.kind == "collection":
        done = export_collection_sheet(session, actor=actor, village_code=job.village,
                                       month=job.month, path=job.path, as_of=job.as_of)
        return done.rows, (f"Wrote {job.path}: {counted(done.rows, 'loan')} to collect in "
                           f"{job.village}, {job.month}")
    done = export_family_statement(session, actor=actor, family_ref=job.family_ref,
                                   path=job.path, as_of=job.as_of)
    return done.rows, (f"Wrote {job.path}: statement of {job.family_ref} as of {job.as_of} "
                       f"({counted(done.rows, 'row')})")


class ProgressFn:
    """progress(rows_written) for the exports, posting to the screen from the worker."""

    def __init__(self, screen: ExportScreen) -> None:
        self.screen = screen

    def __call__(self, rows: int) -> None:
        self.screen.post_message(ExportScreen.RowsWritten(rows))


class ExportScreen(PageScreen):
    """Choose an export and a file; ctrl+s writes it."""

    AREA = "Export"
    CSS_PATH = "export.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "write", "Write the file", id="export.write", priority=True),
    ]

    class RowsWritten(Message):
        """The export has written this many rows so far."""

        def __init__(self, rows: int) -> None:
            self.rows = rows
            super().__init__()

    class Written(Message):
        """The file is written."""

        def __init__(self, path: Path, rows: int, text: str) -> None:
            self.path, self.rows, self.text = path, rows, text
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.written: Path | None = None
        self._auto_path = ""

    def body(self) -> ComposeResult:
        from exports.csv_export import CSV_TABLES

        today, actor = self.ctx.today, self.ctx.user
        # Only what this user may write is offered (the services refuse the rest anyway).
        offered = [(label, value) for value, label in EXPORTS if actor.can(_NEEDS[value])]
        mine = sorted(actor.villages or ())
        with VerticalScroll(id="export-form"):
            if not offered:
                yield Static(f"{actor.name} may not export anything: exports need the "
                             "administrator, officer or auditor role, collection sheets the "
                             "treasurer role too.", id="export-none")
            yield from self._row("kind", "Export", Select(
                offered or [(label, value) for value, label in EXPORTS[:1]],
                value=offered[0][1] if offered else "ledger", allow_blank=False,
                id="export-kind", compact=True, disabled=not offered))
            yield from self._row("as_of", "As of", Input(today.isoformat(), id="export-as-of",
                                                         compact=True))
            yield from self._row("place", "Only the place", Input(
                id="export-place", compact=True,
                placeholder="blank for all; or a province, district, commune or village code: "
                "20, 2001, …"))
            yield from self._row("pseudonymise", "Pseudonymise",
                                 Switch(False, id="export-pseudonymise"))
            yield from self._row("village", "Village code", Input(
                mine[0] if mine else "", id="export-village",
                placeholder=", ".join(mine) if mine else "e.g. 20010101", compact=True))
            yield from self._row("month", "Month", Input(f"{today:%Y-%m}", id="export-month",
                                                         placeholder="YYYY-MM", compact=True))
            yield from self._row("family", "Family ref", Input(
                id="export-family", placeholder="e.g. F001", compact=True))
            yield from self._row("table", "Table", Select(
                [(name, name) for name in CSV_TABLES], value="families", allow_blank=False,
                id="export-table", compact=True))
            yield from self._row("path", "Write to", Input(id="export-path", compact=True))
            with Horizontal(id="export-actions"):
                yield Button("Write (ctrl+s)", id="export-write", variant="primary",
                             compact=True, disabled=not offered)
                yield Static("", id="export-problem")
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static("", id="export-result")

    def _row(self, name: str, label: str, widget: Input | Select[str] | Switch
             ) -> ComposeResult:
        with Horizontal(id=f"export-row-{name}", classes="export-row"):
            yield Label(label, classes="export-label")
            yield widget

    def on_mount(self) -> None:
        self._show_fields()
        self.query_one("#export-kind", Select).focus()

    # --- the form ------------------------------------------------------------------------

    def _kind(self) -> str:
        return str(self.query_one("#export-kind", Select).value)

    def _value(self, name: str) -> str:
        return self.query_one(f"#export-{name}", Input).value.strip()

    def _show_fields(self) -> None:
        used = _FIELDS[self._kind()]
        for name in _ROWS:
            self.query_one(f"#export-row-{name}").display = name in used
        self._default_path()

    def _default_path(self) -> None:
        """Propose a file name, unless the person has typed their own."""
        path = self.query_one("#export-path", Input)
        if path.value and path.value != self._auto_path:
            return
        try:
            as_of = date.fromisoformat(self._value("as-of"))
        except ValueError:
            as_of = self.ctx.today
        self._auto_path = default_path(
            self._kind(), as_of=as_of, village=self._value("village"),
            month=self._value("month"), family_ref=self._value("family"),
            table=str(self.query_one("#export-table", Select).value),
            places=places_typed(self._value("place")))
        path.value = self._auto_path

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "export-kind":
            self._show_fields()
        else:
            self._default_path()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "export-path":
            self._default_path()

    def _job(self) -> ExportJob | None:
        """The export as filled in, or None (with the problem shown) when it is incomplete."""
        kind = self._kind()
        used = _FIELDS[kind]
        problem, as_of = "", self.ctx.today
        if "as_of" in used:
            try:
                as_of = date.fromisoformat(self._value("as-of"))
            except ValueError:
                problem = "write the date as YYYY-MM-DD"
        if problem:
            pass
        elif kind == "collection" and not self._value("village"):
            problem = "give the village code"
        elif kind == "collection" and len(self._value("month")) != 7:
            problem = "write the month as YYYY-MM"
        elif kind == "family" and not self._value("family"):
            problem = "give the family's ref"
        elif not self._value("path"):
            problem = "say where to write the file"
        if problem:
            self.query_one("#export-problem", Static).update(Text(problem, style="red"))
            return None
        self.query_one("#export-problem", Static).update("")
        return ExportJob(kind, Path(self._value("path")).expanduser(), as_of,
                         self.query_one("#export-pseudonymise", Switch).value,
                         self._value("village"), self._value("month"), self._value("family"),
                         str(self.query_one("#export-table", Select).value),
                         places_typed(self._value("place")) if "place" in used else ())

    # --- writing -------------------------------------------------------------------------

    @on(Button.Pressed, "#export-write")
    def _write_pressed(self) -> None:
        self.action_write()

    def action_write(self) -> None:
        """Write the chosen export to the chosen file."""
        job = self._job()
        if job is None:
            return
        self.written = None
        self.query_one("#export-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#export-result", Static).update(f"Writing {job.path}…")
        self.query_one("#export-write", Button).disabled = True
        self._write(job)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _write(self, job: ExportJob) -> None:
        actor = self.ctx.user
        if job.pseudonymise and job.kind in ("ledger", "csv"):
            from ledger.privacy import pseudonym_secret

            with self.fsf.write_session() as session:  # made once, kept for every export
                pseudonym_secret(session)
                session.commit()
        with self.fsf.read_session() as session:
            rows, text = write_export(session, actor, job, ProgressFn(self))
        self.post_message(self.Written(job.path, rows, text))

    @on(RowsWritten)
    def _rows_written(self, event: RowsWritten) -> None:
        self.query_one("#export-progress", ProgressBar).update(progress=event.rows)
        self.query_one("#export-result", Static).update(f"{event.rows:,} rows written…")

    @on(Written)
    def _written(self, event: Written) -> None:
        self.written = event.path
        done = max(event.rows, 1)
        self.query_one("#export-progress", ProgressBar).update(total=done, progress=done)
        self.query_one("#export-result", Static).update(Text(event.text, style="green"))
        self.query_one("#export-write", Button).disabled = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # LedgerScreen's handler also runs (Textual calls each class's): it shows the dialog.
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#export-progress", ProgressBar).update(total=100, progress=0)
            self.query_one("#export-result", Static).update(
                Text("The file was not written.", style="red"))
            self.query_one("#export-write", Button).disabled = False
