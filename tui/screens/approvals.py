"""Approvals: what waits for a second person — loan applications, proposed write-offs and
reversals of old repayments — oldest first. An approver approves (Enter or a) or rejects (x,
with a reason) each one; every decision is confirmed first and then shows what it did to the
loan. Maker-checker: what you proposed waits for a different user (u switches user)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from ledger.actor import Permission
from ledger.approvals import PendingItem
from tui.dialogs import ConfirmDialog, EntryDialog, EntryField, ErrorDialog
from tui.dialogs.checks import required
from tui.screens.base import LedgerScreen
from tui.screens.data.loans import LoanPage, loan_page
from tui.widgets.cells import amount

__all__ = ["ApprovalsScreen", "describe"]

_KINDS = {"loan": "loan", "write_off": "write-off", "reversal": "reversal"}
_PERMISSION = {"loan": Permission.APPROVE_LOANS, "write_off": Permission.APPROVE_WRITE_OFFS,
               "reversal": Permission.APPROVE_REVERSALS}


def describe(item: PendingItem) -> str:
    """One line naming the item: what, how much, which loan, who asked and when."""
    what = {"loan": "the loan application", "write_off": "the write-off",
            "reversal": "the reversal of a repayment"}[item.kind]
    return (f"{what} of {item.amount} on loan {item.loan_ref}, asked by {item.requested_by} "
            f"on {item.on}" + (f" ({item.reason})" if item.reason else ""))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _row_key(item: PendingItem) -> str:
    return f"{item.kind}:{item.id if item.id is not None else item.loan_id}"


def _balance(page: LoanPage) -> str:
    """The loan's state after a decision, in words."""
    status = page.status.replace("_", " ")
    if page.status == "active":
        return f"loan {page.ref} is active: outstanding principal {page.outstanding}"
    if page.recoverable is not None:
        return f"loan {page.ref} is {status}: still recoverable {page.recoverable}"
    return f"loan {page.ref} is now {status}"


class ApprovalsScreen(LedgerScreen):
    """The queue of items waiting for an approver."""

    AREA = "Approvals"
    CSS_PATH = "approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve", id="approvals.approve"),
        Binding("x", "reject", "Reject", id="approvals.reject"),
        Binding("o", "open_loan", "Open loan", id="approvals.open"),
        Binding("u", "app.switch_user", "Switch user", id="approvals.switch_user"),
        Binding("ctrl+r", "reload", "Refresh", id="approvals.refresh"),
    ]

    class PendingLoaded(Message):
        """The queue was read."""

        def __init__(self, items: list[PendingItem]) -> None:
            self.items = items
            super().__init__()

    class ItemDecided(Message):
        """An item was approved or rejected; `page` is its loan afterwards."""

        def __init__(self, what: str, page: LoanPage, items: list[PendingItem]) -> None:
            self.what, self.page, self.items = what, page, items
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, PendingItem] = {}

    def body(self) -> ComposeResult:
        yield Static("", id="approvals-caption", markup=False)
        table: DataTable[object] = DataTable(id="approvals-table", cursor_type="row",
                                             zebra_stripes=True)
        for label, width in (("Kind", 9), ("Loan", 14), ("Amount", 11), ("On", 10),
                             ("Asked by", 16), ("Why", 30)):
            table.add_column(label, width=width, key=label)
        yield table
        yield Static("", id="approvals-detail", markup=False)
        yield Static("", id="approvals-result", markup=False)

    def on_mount(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="approvals-read", exit_on_error=False)
    def reload(self) -> None:
        """Read the queue again (for whoever acts now)."""
        from ledger.approvals import list_pending

        with self.fsf.read_session() as session:
            items = list_pending(session, actor=self.ctx.user)
        self.post_message(self.PendingLoaded(items))

    def _caption(self) -> str:
        actor = self.ctx.user
        can = [k for k, p in _PERMISSION.items() if actor.can(p)]
        may = ("you may approve " + ", ".join(_KINDS[k] + "s" for k in can) if can
               else "you may not approve anything (needs the approver role)")
        return (f"Oldest first. You are {actor.name}: {may}. Your own requests need "
                "another user (u switches user).")

    @on(PendingLoaded)
    def _loaded(self, event: PendingLoaded) -> None:
        self._show(event.items)

    def _show(self, items: list[PendingItem]) -> None:
        self.query_one("#approvals-caption", Static).update(self._caption())
        table = self.query_one("#approvals-table", DataTable)
        table.clear()
        self.items = {_row_key(i): i for i in items}
        for key, i in self.items.items():
            mine = " (you)" if i.requested_by == self.ctx.user.name else ""
            table.add_row(_KINDS[i.kind], i.loan_ref, amount(i.amount), str(i.on),
                          i.requested_by + mine, i.reason, key=key)
        if not items:
            self.query_one("#approvals-detail", Static).update("Nothing waits for approval.")
        table.focus()

    @on(DataTable.RowHighlighted, "#approvals-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        item = self.items.get(str(event.row_key.value))
        if item is not None:
            self.query_one("#approvals-detail", Static).update(_sentence(describe(item)))

    @on(DataTable.RowSelected, "#approvals-table")
    def _chosen(self) -> None:
        self.action_approve()

    def _current(self) -> PendingItem | None:
        table = self.query_one("#approvals-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.items.get(str(key))

    # --- decisions -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="approvals-save", exit_on_error=False)
    def _decide(self, what: str, item: PendingItem, service: Callable[[Session], Any]) -> None:
        from ledger.approvals import list_pending

        with self.fsf.write_session() as session:
            service(session)
        with self.fsf.read_session() as session:
            page = loan_page(session, actor=self.ctx.user, loan_id=item.loan_id,
                             as_of=self.ctx.today)
            items = list_pending(session, actor=self.ctx.user)
        self.post_message(self.ItemDecided(what, page, items))

    @on(ItemDecided)
    def _decided(self, event: ItemDecided) -> None:
        self._show(event.items)
        line = f"✔ {event.what}. {_sentence(_balance(event.page))}."
        # A line that stays, rather than a toast that would cover the table.
        self.query_one("#approvals-result", Static).update(line)

    @work(exclusive=True, group="approvals-dialog", exit_on_error=False)
    async def action_approve(self) -> None:
        from ledger.approvals import approve
        from ledger.services.loans import approve_loan

        item, actor, today = self._current(), self.ctx.user, self.ctx.today
        if item is None:
            self.notify("Nothing waits for approval.", severity="warning")
            return
        if item.second_person and item.requested_by == actor.name:
            # The services refuse this too; saying so before asking spares a pointless confirm.
            self.app.push_screen(ErrorDialog(
                "A different user must approve this",
                f"{_sentence(describe(item))}. Maker-checker: someone other than {actor.name} "
                "approves it. Press u to sign in as the approver."))
            return
        if not await self.app.push_screen_wait(ConfirmDialog(
                f"Approve this {_KINDS[item.kind]}?",
                f"Approve {describe(item)}, as {actor.name}, on {today}."
                + ("" if item.kind == "loan" else " It is posted to the journal at once."),
                confirm="Approve")):
            return
        done = f"Approved {describe(item)}"
        if item.kind == "loan":
            self._decide(done, item, lambda s: approve_loan(
                s, actor=actor, loan_id=item.loan_id, on=today, today=today))
        else:
            assert item.id is not None
            approval_id = item.id
            self._decide(done, item, lambda s: approve(
                s, actor=actor, approval_id=approval_id, today=today))

    @work(exclusive=True, group="approvals-dialog", exit_on_error=False)
    async def action_reject(self) -> None:
        from ledger.approvals import reject
        from ledger.services.loans import reject_loan

        item, actor, today = self._current(), self.ctx.user, self.ctx.today
        if item is None:
            self.notify("Nothing waits for approval.", severity="warning")
            return
        values = await self.app.push_screen_wait(EntryDialog(
            f"Reject this {_KINDS[item.kind]}", [EntryField("reason", "Why is it rejected?",
                                                            "", required("why"))],
            intro=_sentence(describe(item))))
        if values is None:
            return
        reason = values["reason"]
        if not await self.app.push_screen_wait(ConfirmDialog(
                f"Reject this {_KINDS[item.kind]}?",
                f"Reject {describe(item)}, because: {reason}. Nothing is posted.",
                confirm="Reject")):
            return
        done = f"Rejected {describe(item)}"
        if item.kind == "loan":
            self._decide(done, item, lambda s: reject_loan(
                s, actor=actor, loan_id=item.loan_id, on=today, reason=reason))
        else:
            assert item.id is not None
            approval_id = item.id
            self._decide(done, item, lambda s: reject(
                s, actor=actor, approval_id=approval_id, reason=reason))

    def action_open_loan(self) -> None:
        item = self._current()
        if item is not None:
            self.fsf.open_loan(item.loan_id)
