"""The journal, newest entry first (paged from the database), with the selected entry's
postings and who made it; `v` runs the integrity check in a worker and shows its result."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from tui.screens.base import LedgerScreen
from tui.screens.data.journal import entry_count, entry_postings, entry_rows
from tui.widgets.paged_table import Column, FunctionSource, PagedTable

if TYPE_CHECKING:  # the integrity check's modules are imported when `v` is pressed
    from ledger.verify import VerifyReport

__all__ = ["JournalScreen"]

POSTINGS_AFTER = 0.08  # seconds the cursor rests on an entry before its postings are read
# Wide enough for a national ledger: 9.4 million entries at a million loans, and its capital
# in the hundreds of billions of riel.
COLUMNS = (Column("Seq", 9, right=True), Column("Date", 10), Column("Kind", 12),
           Column("Amount", 17, right=True), Column("By", 10), Column("Memo"))


class JournalScreen(LedgerScreen):
    """Journal entries and the ledger's integrity check."""

    AREA = "Journal"
    CSS_PATH = "journal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "verify", "Verify", id="journal.verify"),
    ]

    class PostingsLoaded(Message):
        """The highlighted entry's postings were read."""

        def __init__(self, entry_id: int, rows: list[tuple[str, str, str, str]]) -> None:
            self.entry_id, self.rows = entry_id, rows
            super().__init__()

    class LedgerVerified(Message):
        """The integrity check finished."""

        def __init__(self, report: VerifyReport) -> None:
            self.report = report
            super().__init__()

    _postings_timer: Timer | None = None

    def body(self) -> ComposeResult:
        # The acting user is read at each reading: another may have signed in since.
        source = FunctionSource(lambda session: entry_count(session, actor=self.ctx.user),
                                lambda session, offset, limit: entry_rows(
                                    session, offset, limit, actor=self.ctx.user))
        why = self._scope_text()
        scope = Static(why, id="journal-scope")
        scope.display = bool(why)  # a line only for a user who is shown no entry
        yield scope
        yield PagedTable(COLUMNS, source, id="journal-table")
        yield Static("", id="journal-postings")
        yield Static("v: verify the hash chain, the balances and the cash", id="journal-verify")

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()

    def reload(self) -> None:
        """Read the journal again (for the user acting now)."""
        why = self._scope_text()
        scope = self.query_one("#journal-scope", Static)
        scope.update(why)
        scope.display = bool(why)
        self.query_one(PagedTable).reload()

    def _scope_text(self) -> str:
        """Why a user limited to some villages sees no entry ("" for everyone else)."""
        from ledger.actor import WholeFundOnly

        actor = self.ctx.actor
        if actor is None or actor.villages is None:
            return ""
        return str(WholeFundOnly(actor, "the journal"))

    @on(PagedTable.RowHighlighted, "#journal-table")
    def _highlighted(self, event: PagedTable.RowHighlighted) -> None:
        # Read the postings once the cursor rests: a held arrow key would otherwise start a
        # query (and a thread) for every entry it passes.
        if self._postings_timer is not None:
            self._postings_timer.stop()
        self._postings_timer = self.set_timer(POSTINGS_AFTER, partial(self._postings,
                                                                      event.key))

    @work(thread=True, exclusive=True, group="journal-postings", exit_on_error=False)
    def _postings(self, entry_id: int) -> None:
        with self.fsf.read_session() as session:
            rows = entry_postings(session, entry_id)
        self.post_message(self.PostingsLoaded(entry_id, rows))

    @on(PostingsLoaded)
    def _show_postings(self, event: PostingsLoaded) -> None:
        table = Table("Account", "Debit", "Credit", "For", box=None, expand=True,
                      padding=(0, 1))
        table.columns[1].justify = table.columns[2].justify = "right"
        for row in event.rows:
            table.add_row(*row)
        self.query_one("#journal-postings", Static).update(table)

    def action_verify(self) -> None:
        self.query_one("#journal-verify", Static).update("Verifying the ledger… (you can "
                                                         "keep working)")
        self._verify()

    @work(thread=True, exclusive=True, group="journal-verify", exit_on_error=False)
    def _verify(self) -> None:
        from ledger.verify import verify_ledger

        with self.fsf.read_session() as session:
            report = verify_ledger(session)
        self.post_message(self.LedgerVerified(report))

    @on(LedgerVerified)
    def _verified(self, event: LedgerVerified) -> None:
        r = event.report
        text = Text()
        text.append("Ledger verified" if r.ok else "Ledger check FAILED",
                    style="bold green" if r.ok else "bold red")
        text.append(f" — {r.entries} entries, last {r.last_seq}, hash {r.last_hash[:16]}…")
        for c in r.checks:
            text.append(f"\n{'OK  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
        self.query_one("#journal-verify", Static).update(text)
