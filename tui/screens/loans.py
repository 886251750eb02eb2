"""Loans: every loan, newest first, read from the database a page at a time (a ledger of a
million loans opens as fast as one of ten); a status filter; Enter opens the loan."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ledger.money import Money
from tui.screens.base import LedgerScreen
from tui.widgets.paged_table import Column, FunctionSource, PagedTable

if TYPE_CHECKING:  # the ORM loads in the workers that read the rows
    from sqlalchemy.orm import Session

__all__ = ["LOAN_COLUMNS", "LoansScreen", "loan_count", "loan_rows"]

LOAN_COLUMNS = (Column("Loan", 14), Column("Family", 8), Column("Name", 18),
                Column("Village", 12), Column("Principal", 11, right=True),
                Column("Status", 11), Column("Disbursed", 10), Column("ឈ្មោះ"))
_FILTERS = (None, "active", "applied", "approved", "closed", "written_off", "rejected")


# The list's two queries live here rather than beside the loan page's (tui.screens.data.loans),
# whose imports (schedules, arrears, write-offs) would be paid by the first key 3; and they
# name only the columns they read, so that the first page waits for neither SQLModel nor the
# table classes.
_LOAN = sa.table("loan", *map(sa.column, ("id", "ref", "family_id", "principal_minor",
                                          "currency", "status", "disbursed_on")))
_FAMILY = sa.table("family", *map(sa.column, ("id", "ref", "head_name_latin", "head_name",
                                              "village_id")))
_VILLAGE = sa.table("village", sa.column("id"), sa.column("name_en"))
def loan_count(session: Session, *, status: str | None = None) -> int:
    """How many loans the list holds (with `status`, only those; ix_loan_status)."""
    loan = _LOAN
    query = sa.select(sa.func.count()).select_from(loan)
    return int(session.execute(query.where(loan.c.status == status) if status else query)
               .scalar_one())


def loan_rows(session: Session, offset: int, limit: int, *,
              status: str | None = None) -> list[tuple[int, tuple[str, ...]]]:
    """One page of the list, newest first: (loan id, the cells shown). The page's ids are
    read from the primary key (or ix_loan_status) alone, then joined to their names."""
    loan, fam, vil = _LOAN, _FAMILY, _VILLAGE
    page = sa.select(loan.c.id).order_by(loan.c.id.desc())
    if status:
        page = page.where(loan.c.status == status)
    ids = page.offset(offset).limit(limit).subquery()
    rows = session.execute(
        sa.select(loan.c.id, loan.c.ref, fam.c.ref, fam.c.head_name_latin, vil.c.name_en,
                  loan.c.principal_minor, loan.c.currency, loan.c.status, loan.c.disbursed_on,
                  fam.c.head_name)
        .join(ids, ids.c.id == loan.c.id).join(fam, fam.c.id == loan.c.family_id)
        .join(vil, vil.c.id == fam.c.village_id).order_by(loan.c.id.desc())
    ).all()
    return [(int(i), (ref, fref, latin or name, village,
                      str(Money.from_minor(int(p), cur)), status, str(disb or ""), name))
            for i, ref, fref, latin, village, p, cur, status, disb, name in rows]


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
