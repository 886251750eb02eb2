"""Choosing a family on the projection screen: search as you type (reference, name in Khmer or
Latin, village, id), Enter picks. The search runs in a thread worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from tui.screens.data.families import FamilyRow, search_families

if TYPE_CHECKING:
    from tui.app import FsfApp

__all__ = ["FamilyFinder"]


class FamilyFinder(Vertical):
    """A search box over a table of families; posts `Picked` with the family's id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_search", "Leave the search", show=False),
    ]

    class Picked(Message):
        """A family was chosen."""

        def __init__(self, family_id: int) -> None:
            self.family_id = family_id
            super().__init__()

    class _Found(Message):
        def __init__(self, text: str, rows: list[FamilyRow]) -> None:
            self.text, self.rows = text, rows
            super().__init__()

    def compose(self) -> ComposeResult:
        yield Static("Which family? Type a reference, a name (Khmer or Latin) or a village; "
                     "Enter opens its projection.", classes="projections-caption")
        yield Input(placeholder="Search families", id="projections-search")
        table: DataTable[str] = DataTable(id="projections-found", cursor_type="row",
                                          zebra_stripes=True)
        for label, width in (("Ref", 9), ("Name", 22), ("Village", 16), ("Open loan", 12)):
            table.add_column(label, width=width, key=label)
        table.add_column("ឈ្មោះ", key="khmer")
        yield table

    def start(self) -> None:
        """Focus the search box and list families."""
        box = self.query_one("#projections-search", Input)
        box.focus()
        self.search(box.value)

    def action_leave_search(self) -> None:
        """Escape in the search box: to the families found, where the area keys (1–0) work
        again (the box takes every key typed). Elsewhere Escape goes on to the screen."""
        if not self.query_one("#projections-search", Input).has_focus:
            raise SkipAction()
        self.query_one("#projections-found", DataTable).focus()

    @on(Input.Changed, "#projections-search")
    def _typed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#projections-search")
    def _to_table(self) -> None:
        table = self.query_one("#projections-found", DataTable)
        if table.row_count == 1:
            self._pick(table)
        elif table.row_count:
            table.focus()

    @work(thread=True, exclusive=True, group="projections-find", exit_on_error=False)
    def search(self, text: str) -> None:
        """Families matching `text` (a newer search makes an older one's result moot)."""
        fsf = cast("FsfApp", self.app)
        with fsf.read_session() as session:
            rows = search_families(session, text, actor=fsf.ledger.user, limit=100)
        self.post_message(self._Found(text, rows))

    @on(_Found)
    def _found(self, event: _Found) -> None:
        if event.text != self.query_one("#projections-search", Input).value:
            return  # typed on since; a newer search is coming
        table = self.query_one("#projections-found", DataTable)
        table.clear()
        for r in event.rows:
            table.add_row(r.ref, r.name_latin, r.village, r.open_loan, r.name, key=str(r.id))

    @on(DataTable.RowSelected, "#projections-found")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self._pick(event.data_table)

    def _pick(self, table: DataTable[str]) -> None:
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        self.post_message(self.Picked(int(str(key.value))))
