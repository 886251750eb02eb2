"""Loans: every loan, newest first, read from the database a page at a time (a ledger of a
million loans opens as fast as one of ten); a status filter; Enter opens the loan."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ledger.money import Money
from tui.screens.base import LedgerScreen
from tui.screens.data.scope import family_filters, from_her_families
from tui.widgets.paged_table import Column, FunctionSource, PagedTable

if TYPE_CHECKING:  # the ORM loads in the workers that read the rows
    from sqlalchemy.orm import Session

    from ledger.actor import Actor

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
def _seen(query: sa.Select[Any], status: str | None, actor: Actor | None) -> sa.Select[Any]:
    """`query` narrowed to the loans in `status` (if any) of the families `actor` sees."""
    if status:
        column = (_LOAN.c.status if actor is None  # not every loan of that status
                  else from_her_families(_LOAN.c.status, actor, text=True))
        query = query.where(column == status)
    return query.where(*family_filters(actor, _LOAN.c.family_id)) if actor else query


def loan_count(session: Session, *, status: str | None = None,
               actor: Actor | None = None) -> int:
    """How many loans the list holds (with `status`, only those; ix_loan_status), of the
    families `actor` sees (None: every loan)."""
    query = sa.select(sa.func.count()).select_from(_LOAN)
    return int(session.execute(_seen(query, status, actor)).scalar_one())


def loan_rows(session: Session, offset: int, limit: int, *, status: str | None = None,
              actor: Actor | None = None) -> list[tuple[int, tuple[str, ...]]]:
    """One page of the list, newest first: (loan id, the cells shown). The page's ids are
    read from the primary key (or ix_loan_status) alone, then joined to their names."""
    loan, fam, vil = _LOAN, _FAMILY, _VILLAGE
    page = _seen(sa.select(loan.c.id).order_by(loan.c.id.desc()), status, actor)
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
        return FunctionSource(partial(loan_count, status=status, actor=self.ctx.user),
                              partial(loan_rows, status=status, actor=self.ctx.user))

    def body(self) -> ComposeResult:
        yield Static(self._caption(), id="loans-caption")
        yield PagedTable(LOAN_COLUMNS, self._source(), id="loans-table")

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()

    def reload(self) -> None:
        """Read the list again (for the user acting now, with the filter chosen)."""
        self.query_one("#loans-caption", Static).update(self._caption())
        self.query_one(PagedTable).reload(self._source())

    def _caption(self) -> str:
        status = _FILTERS[self.filter_at]
        what = "All loans" if status is None else status.replace("_", " ").capitalize()
        villages = self.ctx.actor.villages if self.ctx.actor is not None else None
        where = f" in villages {', '.join(sorted(villages))}" if villages is not None else ""
        return f"{what}{where}, newest first  (t: filter by status)"

    def action_next_filter(self) -> None:
        self.filter_at = (self.filter_at + 1) % len(_FILTERS)
        self.reload()

    @on(PagedTable.RowChosen, "#loans-table")
    def _open(self, event: PagedTable.RowChosen) -> None:
        self.fsf.open_loan(event.key)
