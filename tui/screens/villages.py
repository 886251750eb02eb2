"""Villages (the treasurer's view): every village she sees with its families, active loans
and the principal still owed; Enter drills into the village's families and loans. The list
draws only the lines on screen: at a million loans it holds 14,563 villages, which Textual's
DataTable took seconds of the screen's thread to lay out."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static

from tui.screens.base import LedgerScreen
from tui.screens.data.overview import VillageLine, villages
from tui.widgets.cells import counted
from tui.widgets.paged_table import Column, ListSource, PagedTable

__all__ = ["VillagesScreen"]

COLUMNS = (Column("Village", 20), Column("Families", 8, right=True),
           Column("Active", 6, right=True), Column("Owed", 14, right=True), Column("ភូមិ"))
_READING = "Reading the villages… (a national ledger takes a while; other areas stay usable)"


def _cells(index: int, v: VillageLine) -> tuple[int, tuple[str, ...]]:
    return index, (v.name, f"{v.families:,}", f"{v.active:,}", str(v.outstanding), v.name_kh)


class VillagesScreen(LedgerScreen):
    """The villages report with drill-down."""

    AREA = "Villages"
    CSS_PATH = "villages.tcss"

    class VillagesLoaded(Message):
        """The villages report was read."""

        def __init__(self, rows: list[VillageLine]) -> None:
            self.rows = rows
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[VillageLine] = []

    def body(self) -> ComposeResult:
        yield Static(_READING, id="villages-caption")
        yield PagedTable(COLUMNS, None, id="villages-table")  # "reading…" until read

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Read the report again."""
        with self.fsf.read_session() as session:
            rows = villages(session, self.ctx.today, actor=self.ctx.user)
        self.post_message(self.VillagesLoaded(rows))

    @on(VillagesLoaded)
    def _loaded(self, event: VillagesLoaded) -> None:
        self.rows = event.rows
        self.query_one(PagedTable).reload(ListSource(self.rows, _cells))
        self.query_one("#villages-caption", Static).update(
            f"{counted(len(self.rows), 'village')} with families in the ledger; "
            "Enter opens one")

    @on(PagedTable.RowChosen, "#villages-table")
    def _open(self, event: PagedTable.RowChosen) -> None:
        if event.key < len(self.rows):
            self.fsf.open_village(self.rows[event.key].id)
