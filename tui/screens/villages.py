"""Villages (the treasurer's view): every village with its families, active loans and the
principal still owed; Enter drills into the village's families and loans."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.screens.base import LedgerScreen
from tui.screens.data.overview import VillageLine, villages
from tui.widgets.cells import amount

__all__ = ["VillagesScreen"]


class VillagesScreen(LedgerScreen):
    """The villages report with drill-down."""

    AREA = "Villages"
    CSS_PATH = "villages.tcss"

    class VillagesLoaded(Message):
        """The villages report was read."""

        def __init__(self, rows: list[VillageLine]) -> None:
            self.rows = rows
            super().__init__()

    def body(self) -> ComposeResult:
        yield Static("Villages with families in the ledger; Enter opens one", id="villages-caption")
        table: DataTable[object] = DataTable(id="villages-table", cursor_type="row",
                                             zebra_stripes=True)
        table.add_column("Village", width=20, key="village")
        table.add_column("Families", width=8, key="families")
        table.add_column("Active", width=6, key="active")
        table.add_column("Owed", width=14, key="owed")
        table.add_column("ភូមិ", key="khmer")
        yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Read the report again."""
        with self.fsf.read_session() as session:
            rows = villages(session, self.ctx.today, actor=self.ctx.user)
        self.post_message(self.VillagesLoaded(rows))

    @on(VillagesLoaded)
    def _loaded(self, event: VillagesLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for v in event.rows:
            table.add_row(v.name, str(v.families), str(v.active), amount(v.outstanding),
                          v.name_kh, key=str(v.id))

    @on(DataTable.RowSelected, "#villages-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.fsf.open_village(int(str(event.row_key.value)))
