"""One village: its families with their latest loan; Enter opens the family."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.screens.base import PageScreen
from tui.screens.data.overview import village_families
from tui.widgets.cells import fit

__all__ = ["VillageScreen"]


class VillageScreen(PageScreen):
    """A village's families and loans."""

    AREA = "Village"
    CSS_PATH = "village.tcss"

    class VillageLoaded(Message):
        """The village's families were read."""

        def __init__(self, rows: list[tuple[int, tuple[str, ...]]]) -> None:
            self.rows = rows
            super().__init__()

    def __init__(self, village_id: int) -> None:
        super().__init__()
        self.village_id = village_id

    def body(self) -> ComposeResult:
        yield Static("Families of the village; Enter opens one", id="village-caption")
        table: DataTable[object] = DataTable(id="village-table", cursor_type="row",
                                             zebra_stripes=True)
        # Wide enough for a national ledger's refs (F0000691, L0000691) and every status:
        # the table cuts a cell without a mark, and a cut ref reads as another family's.
        for label, width in (("Family", 9), ("Name", 16), ("Loan", 14), ("Status", 11),
                             ("Principal", 11)):
            table.add_column(label, width=width, key=label)
        table.add_column("ឈ្មោះ", key="khmer")
        yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Read the village again."""
        with self.fsf.read_session() as session:
            rows = village_families(session, self.village_id, actor=self.ctx.user)
        self.post_message(self.VillageLoaded(rows))

    @on(VillageLoaded)
    def _loaded(self, event: VillageLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for fid, cells in event.rows:
            *aligned, khmer = cells
            aligned[4] = fit(aligned[4], 11, right=True)
            table.add_row(*aligned, khmer, key=str(fid))

    @on(DataTable.RowSelected, "#village-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.fsf.open_family(int(str(event.row_key.value)))
