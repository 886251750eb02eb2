"""Families: search as you type by name (Khmer or Latin), village, reference or id; Enter
opens the family's page."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from ledger.db.interrupt import NewestReads
from tui.screens.base import LedgerScreen
from tui.screens.data.families import FamilyRow, search_families
from tui.widgets.cells import counted

__all__ = ["FamiliesScreen"]


class FamiliesScreen(LedgerScreen):
    """The family finder."""

    AREA = "Families"
    CSS_PATH = "families.tcss"
    LEAVE_TO = "#families-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "find", "Find", id="families.find"),
        Binding("n", "new_loan", "New loan", id="families.new_loan"),
    ]

    class FamiliesFound(Message):
        """A search finished with these families."""

        def __init__(self, text: str, rows: list[FamilyRow]) -> None:
            self.text, self.rows = text, rows
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self._searches = NewestReads()

    def body(self) -> ComposeResult:
        yield Input(placeholder="Search: name (Khmer or Latin), village, reference or id",
                    id="families-search")
        yield Static("", id="families-count", classes="muted")
        table: DataTable[str] = DataTable(id="families-table", cursor_type="row",
                                          zebra_stripes=True)
        table.add_column("Ref", width=9, key="ref")
        table.add_column("Name", width=22, key="name")
        table.add_column("Village", width=16, key="village")
        table.add_column("Open loan", width=12, key="loan")
        table.add_column("ឈ្មោះ", key="khmer")
        yield table

    def on_mount(self) -> None:
        self.query_one("#families-search", Input).focus()
        self.search("")

    def reload(self) -> None:
        """Search again with what is typed."""
        self.search(self.query_one("#families-search", Input).value)

    @on(Input.Changed, "#families-search")
    def _typed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#families-search")
    def _to_table(self) -> None:
        table = self.query_one("#families-table", DataTable)
        if table.row_count == 1:
            self._open(table)
        elif table.row_count:
            table.focus()

    @work(thread=True, exclusive=True, group="family-search", exit_on_error=False)
    def search(self, text: str) -> None:
        """Find families matching `text`. A newer search stops this one's query: as someone
        types a name, each key would otherwise start another scan of every family (a second
        or two at a million), and the one she waits for would queue behind them."""
        with self._searches.begin() as mine, self.fsf.read_session() as session, \
                mine.watch(session):
            rows = search_families(session, text, actor=self.ctx.user)
            self.post_message(self.FamiliesFound(text, rows))

    @on(FamiliesFound)
    def _found(self, event: FamiliesFound) -> None:
        if event.text != self.query_one("#families-search", Input).value:
            return  # the person has typed on; a newer search is coming
        table = self.query_one("#families-table", DataTable)
        table.clear()
        for r in event.rows:
            table.add_row(r.ref, r.name_latin, r.village, r.open_loan, r.name, key=str(r.id))
        shown = len(event.rows)
        more = " (first 200; type more to narrow)" if shown == 200 else ""
        self.query_one("#families-count", Static).update(
            counted(shown, "family", "families") + more)

    @on(DataTable.RowSelected, "#families-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self._open(event.data_table)

    def _current(self, table: DataTable[str]) -> int | None:
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(str(key.value))

    def _open(self, table: DataTable[str]) -> None:
        family = self._current(table)
        if family is not None:
            self.fsf.open_family(family)

    def action_find(self) -> None:
        self.query_one("#families-search", Input).focus()


    def action_new_loan(self) -> None:
        family = self._current(self.query_one("#families-table", DataTable))
        if family is not None:
            self.fsf.new_loan(family)
