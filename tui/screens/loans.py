"""Loans: every loan, newest first, read from the database a page at a time (a ledger of a
million loans opens as fast as one of ten); a status filter; Enter opens the loan."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui.screens.base import LedgerScreen
from tui.screens.data.loans import loan_count, loan_rows
from tui.widgets.paged_table import Column, FunctionSource, PagedTable

__all__ = ["LOAN_COLUMNS", "LoansScreen"]

LOAN_COLUMNS = (Column("Loan", 14), Column("Family", 8), Column("Name", 18),
                Column("Village", 12), Column("Principal", 11, right=True),
                Column("Status", 11), Column("Disbursed", 10), Column("ឈ្មោះ"))
_FILTERS = (None, "active", "applied", "approved", "closed", "written_off", "rejected")


class LoansScreen(LedgerScreen):
    """The loans list."""

    AREA = "Loans"
    CSS_PATH = "loans.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "next_filter", "Status filter", id="loans.filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_at = 0

    def _source(self) -> FunctionSource:
        status = _FILTERS[self.filter_at]
        return FunctionSource(partial(loan_count, status=status),
                              partial(loan_rows, status=status))

    def body(self) -> ComposeResult:
        yield Static("All loans, newest first  (t: filter by status)", id="loans-caption")
        yield PagedTable(LOAN_COLUMNS, self._source(), id="loans-table")

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()

    def reload(self) -> None:
        """Read the list again."""
        self.query_one(PagedTable).reload(self._source())

    def action_next_filter(self) -> None:
        self.filter_at = (self.filter_at + 1) % len(_FILTERS)
        status = _FILTERS[self.filter_at]
        self.query_one("#loans-caption", Static).update(
            f"{'All loans' if status is None else status.replace('_', ' ').capitalize()}"
            ", newest first  (t: filter by status)")
        self.reload()

    @on(PagedTable.RowChosen, "#loans-table")
    def _open(self, event: PagedTable.RowChosen) -> None:
        self.fsf.open_loan(event.key)
