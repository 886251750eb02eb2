"""A loan's page: schedule with each installment's state (paid, paid late, waived, due,
OVERDUE, WRITTEN OFF; "planned" before the loan is paid out), payments, arrears and payoff,
and for a written-off loan what was written off and recovered; actions approve, disburse,
record or reverse a repayment, propose a write-off, record a recovery, reschedule. Every action
states what it will do and to whom, asks, and then shows the resulting balance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ledger.actor import SecondPersonRequired
from ledger.money import Money
from tui.dialogs import ConfirmDialog, EntryDialog, EntryField
from tui.dialogs.checks import amount_check, date_check, parse_date, required, whole_number
from tui.screens.base import PageScreen
from tui.screens.data.loans import (
    LoanPage,
    WriteOffFacts,
    installment_state,
    loan_page,
    write_off_facts,
)
from tui.widgets.cells import amount

__all__ = ["LoanScreen"]

# action -> loan statuses it applies to (others are hidden from the footer)
_WHEN = {"approve": ("applied",), "disburse": ("approved",), "repay": ("active",),
         "reverse": ("active", "closed"), "write_off": ("active",),
         "recover": ("written_off",), "reschedule": ("active",)}



class LoanScreen(PageScreen):
    """One loan and what can be done to it."""

    AREA = "Loan"
    CSS_PATH = "loan.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve", id="loan.approve"),
        Binding("d", "disburse", "Disburse", id="loan.disburse"),
        Binding("r", "repay", "Repayment", id="loan.repay"),
        Binding("v", "reverse", "Reverse", id="loan.reverse"),
        Binding("w", "write_off", "Write off", id="loan.write_off"),
        Binding("c", "recover", "Recovery", id="loan.recover"),
        Binding("s", "reschedule", "Reschedule", id="loan.reschedule"),
        Binding("f", "family", "Family", id="loan.family"),
    ]

    class LoanLoaded(Message):
        """The loan's page was read."""

        def __init__(self, page: LoanPage, written_off: WriteOffFacts | None) -> None:
            self.page, self.written_off = page, written_off
            super().__init__()

    class LoanChanged(Message):
        """An action was saved (a repayment recorded, a reversal, a disbursement …)."""

        def __init__(self, what: str, page: LoanPage,
                     written_off: WriteOffFacts | None) -> None:
            self.what, self.page, self.written_off = what, page, written_off
            super().__init__()

    def __init__(self, loan_id: int) -> None:
        super().__init__()
        self.loan_id = loan_id
        self.page: LoanPage | None = None

    def body(self) -> ComposeResult:
        yield Static("reading…", id="loan-head")
        yield Static("", id="loan-result")
        with Horizontal(id="loan-tables"):
            schedule: DataTable[object] = DataTable(id="loan-schedule", cursor_type="row",
                                                    zebra_stripes=True)
            for label, width in (("#", 2), ("Due", 10), ("Amount", 9), ("Paid", 9),
                                 ("State", 11)):
                schedule.add_column(label, width=width, key=label)
            yield schedule
            with Vertical(id="loan-right"):
                yield Static("Payments (v reverses)", classes="loan-caption")
                payments: DataTable[object] = DataTable(id="loan-payments", cursor_type="row")
                for label, width in (("Paid on", 10), ("Amount", 9), ("Rev", 3)):
                    payments.add_column(label, width=width, key=label)
                yield payments

    def on_mount(self) -> None:
        self.reload()

    def _read(self) -> tuple[LoanPage, WriteOffFacts | None]:
        with self.fsf.read_session() as session:
            page = loan_page(session, actor=self.ctx.user, loan_id=self.loan_id,
                             as_of=self.ctx.today)
            return page, write_off_facts(session, page)

    @work(thread=True, exclusive=True, group="loan-read", exit_on_error=False)
    def reload(self) -> None:
        """Read the loan's page again."""
        self.post_message(self.LoanLoaded(*self._read()))

    def on_screen_resume(self) -> None:
        # Back from another page or area where this loan may have changed (a write-off
        # approved, a meeting posted): read it again.
        if self.page is not None:
            self.reload()

    @on(LoanLoaded)
    def _loaded(self, event: LoanLoaded) -> None:
        self._show(event.page, event.written_off)
        # The last action's line described the loan as it was; it is read afresh now.
        self.query_one("#loan-result", Static).update("")

    @on(LoanChanged)
    def _changed(self, event: LoanChanged) -> None:
        self._show(event.page, event.written_off)
        p = event.page
        balance = (f"outstanding principal now {p.outstanding}, payoff today {p.payoff}"
                   if p.status == "active"
                   else f"the loan is now {p.status.replace('_', ' ')}")
        if event.written_off is not None:
            balance += f"; recovered {event.written_off.recovered} so far"
        if p.recoverable is not None:
            balance += f"; still recoverable {p.recoverable}"
        line = f"✔ {event.what}. {balance[0].upper()}{balance[1:]}."
        # A line that stays above the schedule, rather than a toast that would cover it.
        self.query_one("#loan-result", Static).update(line)

    def _show(self, p: LoanPage, written_off: WriteOffFacts | None) -> None:
        self.page = p
        head = Table.grid(padding=(0, 2), expand=True)
        head.add_column(style="bold", width=12)
        head.add_column()
        renegotiated = "  (rescheduled)" if p.renegotiated else ""
        status = p.status.replace("_", " ").upper()
        # Text, not markup: "[ACTIVE]" and names as people typed them are shown as they are.
        head.add_row("Loan", Text(f"{p.ref}  [{status}]{renegotiated}  {p.principal}, "
                                  f"{p.terms}"))
        head.add_row("Family", Text(f"{p.family_ref}  {p.family_name_latin}   {p.family_name}"))
        if p.status == "active" and p.arrears is not None:
            a = p.arrears
            late = (f"{Money(a.overdue_amount, p.principal.currency)} overdue, "
                    f"{a.days_overdue:,} days" if a.days_overdue else "nothing overdue")
            head.add_row("Owes", f"principal {p.outstanding}; {late}; payoff {p.payoff}")
        elif written_off is not None:
            head.add_row("Written off", f"{written_off.written_off}; recovered "
                                        f"{written_off.recovered}; still recoverable "
                                        f"{p.recoverable}")
        elif p.recoverable is not None:
            head.add_row("Recoverable", str(p.recoverable))
        elif p.status in ("applied", "approved"):
            head.add_row("Next", "a approves the application" if p.status == "applied" else
                         "d disburses it; its schedule starts then")
            head.add_row("Schedule", Text(f"planned, as if paid out on {p.planned_from}; "
                                          "fixed when it is disbursed", style="italic"))
        self.query_one("#loan-head", Static).update(head)
        schedule = self.query_one("#loan-schedule", DataTable)
        schedule.clear()
        for i in p.installments:
            schedule.add_row(str(i.number), str(i.due_date), amount(i.due), amount(i.paid),
                             installment_state(p, i), key=str(i.number))
        payments = self.query_one("#loan-payments", DataTable)
        payments.clear()
        for pay in p.payments:
            payments.add_row(str(pay.paid_on), amount(pay.amount), "yes" if pay.reversed else "",
                             key=str(pay.id))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _WHEN:
            return self.page is not None and self.page.status in _WHEN[action]
        return super().check_action(action, parameters)

    # --- running a service ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="loan-action", exit_on_error=False)
    def _save(self, what: str, service: Callable[[Session], Any]) -> None:
        with self.fsf.write_session() as session:
            service(session)
        self.post_message(self.LoanChanged(what, *self._read()))

    def _who(self) -> str:
        assert self.page is not None
        return f"{self.page.family_name_latin} ({self.page.family_ref}), loan {self.page.ref}"

    async def _ask(self, title: str, fields: list[EntryField]) -> dict[str, str] | None:
        return await self.app.push_screen_wait(EntryDialog(title, fields, intro=self._who()))

    async def _sure(self, title: str, message: str) -> bool:
        return bool(await self.app.push_screen_wait(ConfirmDialog(title, message)))

    # --- actions -------------------------------------------------------------------------

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_approve(self) -> None:
        from ledger.services.loans import approve_loan

        p, today = self.page, self.ctx.today
        assert p is not None
        if await self._sure("Approve this loan?", f"Approve {p.principal} for {self._who()}, "
                                                  f"on {today}."):
            self._save(f"Approved {p.principal} for {p.family_name_latin}",
                       lambda s: approve_loan(s, actor=self.ctx.user, loan_id=p.id, on=today,
                                              today=today))

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_disburse(self) -> None:
        from ledger.services.loans import disburse_loan

        p, today = self.page, self.ctx.today
        assert p is not None
        if await self._sure("Disburse this loan?", f"Pay out {p.principal} in cash to "
                                                   f"{self._who()}, on {today}."):
            self._save(f"Disbursed {p.principal} to {p.family_name_latin}",
                       lambda s: disburse_loan(s, actor=self.ctx.user, loan_id=p.id, on=today,
                                               today=today))

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_repay(self) -> None:
        from ledger.services.repayments import record_repayment

        p, today = self.page, self.ctx.today
        assert p is not None and p.arrears is not None
        cur = p.principal.currency.code
        suggested = Money(p.arrears.overdue_amount + p.arrears.next_due_amount,
                          p.principal.currency)
        values = await self._ask("Record a repayment", [
            EntryField("amount", f"Amount received ({cur}; payoff {p.payoff})",
                       suggested.plain() if suggested else "",
                       amount_check(cur, at_most=p.payoff)),
            EntryField("paid_on", "Paid on (YYYY-MM-DD)", today.isoformat(),
                       date_check(not_after=today, not_before=p.disbursed_on)),
        ])
        if values is None:
            return
        paid = Money.parse(values["amount"], cur)
        on_day = parse_date(values["paid_on"])
        if await self._sure("Record this repayment?",
                            f"Record {paid} received from {self._who()} on {on_day}."):
            self._save(f"Recorded {paid} from {p.family_name_latin}",
                       lambda s: record_repayment(s, actor=self.ctx.user, loan_id=p.id,
                                                  amount=paid, paid_on=on_day, today=today))

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_reverse(self) -> None:
        from ledger.approvals import propose_reversal
        from ledger.services.repayments import reverse_repayment

        p, today = self.page, self.ctx.today
        assert p is not None
        table = self.query_one("#loan-payments", DataTable)
        standing = [x for x in p.payments if not x.reversed]
        if not table.row_count or not standing:
            self.notify("No repayment to reverse.", severity="warning")
            return
        key = int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        pay = next((x for x in p.payments if x.id == key), standing[-1])
        if pay.reversed:
            self.notify("That repayment is already reversed.", severity="warning")
            return
        values = await self._ask(f"Reverse the repayment of {pay.amount} of {pay.paid_on}", [
            EntryField("reason", "Why is it reversed?", "", required("why")),
            EntryField("on", "Reversal dated (YYYY-MM-DD)", today.isoformat(),
                       date_check(not_after=today, not_before=pay.paid_on)),
        ])
        if values is None:
            return
        on_day, reason = parse_date(values["on"]), values["reason"]
        if not await self._sure("Reverse this repayment?",
                                f"Reverse {pay.amount} paid on {pay.paid_on} by {self._who()}"
                                f", because: {reason}."):
            return

        def reverse(s: Session) -> None:
            try:
                reverse_repayment(s, actor=self.ctx.user, repayment_id=pay.id, reason=reason,
                                  on=on_day)
            except SecondPersonRequired:
                s.rollback()
                propose_reversal(s, actor=self.ctx.user, repayment_id=pay.id, on=on_day,
                                 reason=reason)
                self.app.call_from_thread(
                    self.notify, "This repayment is old: its reversal was proposed and waits "
                                 "for a different user to approve it.", timeout=10)

        self._save(f"Reversal of {pay.amount} of {pay.paid_on} saved", reverse)

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_write_off(self) -> None:
        from ledger.approvals import propose_write_off

        p, today = self.page, self.ctx.today
        assert p is not None
        values = await self._ask("Propose a write-off", [
            EntryField("reason", "Why is it written off?", "", required("why")),
        ])
        if values is None:
            return
        if await self._sure("Propose this write-off?",
                            f"Propose writing off {p.outstanding} of principal on "
                            f"{self._who()}, on {today}. A different user approves it."):
            self._save(f"Write-off of {p.outstanding} proposed: a different user approves it "
                       "(u switches user, 0 opens Approvals)",
                       lambda s: propose_write_off(s, actor=self.ctx.user, loan_id=p.id,
                                                   on=today, today=today,
                                                   reason=values["reason"]))

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_recover(self) -> None:
        from ledger.services.writeoffs import record_recovery

        p, today = self.page, self.ctx.today
        assert p is not None and p.recoverable is not None
        cur = p.principal.currency.code
        values = await self._ask("Record a recovery", [
            EntryField("amount", f"Amount recovered (at most {p.recoverable})", "",
                       amount_check(cur, at_most=p.recoverable)),
            EntryField("on", "Received on (YYYY-MM-DD)", today.isoformat(),
                       date_check(not_after=today)),
        ])
        if values is None:
            return
        got, on_day = Money.parse(values["amount"], cur), parse_date(values["on"])
        if await self._sure("Record this recovery?",
                            f"Record {got} recovered from {self._who()} on {on_day}."):
            self._save(f"Recovered {got} from {p.family_name_latin}",
                       lambda s: record_recovery(s, actor=self.ctx.user, loan_id=p.id,
                                                 amount=got, on=on_day, today=today))

    @work(exclusive=True, group="loan-dialog", exit_on_error=False)
    async def action_reschedule(self) -> None:
        from ledger.services.reschedule import reschedule_loan

        p, today = self.page, self.ctx.today
        assert p is not None
        values = await self._ask("Reschedule", [
            EntryField("repayments", "New number of monthly installments", "6",
                       whole_number(1, 36)),
            EntryField("reason", "Why (a flood, an illness …)?", "", required("why")),
        ])
        if values is None:
            return
        count = int(values["repayments"])
        if await self._sure("Reschedule this loan?",
                            f"Spread {p.outstanding} still owed by {self._who()} over {count} "
                            f"new installments from {today}."):
            self._save(f"Rescheduled {p.outstanding} over {count} installments",
                       lambda s: reschedule_loan(s, actor=self.ctx.user, loan_id=p.id,
                                                 on=today, today=today, repayments=count,
                                                 reason=values["reason"]))

    def action_family(self) -> None:
        if self.page is not None:
            self.fsf.open_family(self.page.family_id)
