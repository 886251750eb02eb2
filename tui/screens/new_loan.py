"""New loan for a family: each field is checked as it is typed against the product's limits;
the schedule, APR/EIR, compliance warnings, repayment capacity and the informal-lender
comparison are shown before anything is saved. ctrl+s saves the application (after a
confirmation naming the amount and the family); approving and disbursing follow on the loan's
page, each with its own confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Static

from ledger.db.tables import LoanProduct
from ledger.disclosure import percent
from ledger.money import Money
from ledger.services.products import FOUNDATION_PRODUCT, find_product
from tui.dialogs import ConfirmDialog
from tui.screens.base import PageScreen
from tui.screens.data.families import FamilyPage, family_page
from tui.screens.data.offer import Household0, LoanOffer, OfferInput, household_defaults, make_offer

__all__ = ["NewLoanScreen"]

FIELDS = (
    ("ref", "Loan reference"),
    ("principal", "Principal (riel)"),
    ("repayments", "Monthly installments"),
    ("applied_on", "Applied on"),
    ("first_due_on", "First due (optional)"),
    ("grace_principal", "Grace on principal"),
    ("income", "Household income/month"),
    ("costs", "Living costs/month"),
)


SIDE_BY_SIDE = 100  # columns from which the disclosure stands beside the schedule


def _schedule_table(o: LoanOffer) -> Table:
    """The installments: number, due date, amount and the balance after it, amounts
    right-aligned; no column wraps or is cut (the widest is a date)."""
    cur = o.terms.currency
    sched = Table(box=None, padding=(0, 1), show_edge=False)
    sched.add_column("#", justify="right", no_wrap=True)
    sched.add_column("Due", no_wrap=True, min_width=10)
    sched.add_column("Installment", justify="right", no_wrap=True)
    sched.add_column("Balance", justify="right", no_wrap=True)
    for i in o.schedule.installments:
        sched.add_row(str(i.number), str(i.due_date), str(Money(i.total, cur)),
                      str(Money(i.balance, cur)))
    sched.add_row("", Text("Total", style="bold"), Text(str(Money(o.schedule.total, cur)),
                                                        style="bold"), "")
    return sched


def _disclosure(o: LoanOffer) -> Table:
    """APR/EIR, compliance warnings, repayment capacity and the informal lenders' cost."""
    cur = o.terms.currency
    side = Table.grid()
    side.add_column(overflow="fold")
    d = o.disclosure
    side.add_row(Text(f"APR {percent(d.apr)} %   EIR {percent(d.eir)} %", style="bold"))
    side.add_row(f"Interest {Money(o.schedule.total_interest, cur)}")
    for warning in d.warnings:
        side.add_row(Text(f"⚠ {warning}", style="bold red"))
    if o.capacity is None:
        side.add_row(Text("Capacity: type the household's income and costs", style="dim"))
    else:
        c = o.capacity
        index = "—" if c.index is None else f"{c.index * 100:.0f} %"
        style = {"solvent": "green", "at-risk": "yellow"}.get(c.solvency.value, "red")
        side.add_row(Text(f"Capacity: {c.solvency.value.upper()} (debt {index} of net "
                          f"income)", style=f"bold {style}"))
        side.add_row(f"Can carry {Money(c.installment_capacity, cur)}/month; largest "
                     f"loan {Money(c.largest_loan, cur)}")
        if c.missed_months:
            side.add_row(Text(f"Short in months {', '.join(map(str, c.missed_months))}",
                              style="red"))
    side.add_row("")
    side.add_row(Text("Against the informal lender:", style="bold"))
    for offer in o.informal:
        side.add_row(f"{offer.label}: APR {percent(offer.apr)} %, saves "
                     f"{Money(offer.saving, cur)}")
    return side


def render_offer(o: LoanOffer, width: int) -> RenderableType:
    """The preview: the schedule with the disclosure beside it from `SIDE_BY_SIDE` columns,
    below it on a narrower terminal (80 columns)."""
    if width >= SIDE_BY_SIDE:
        outer = Table.grid(padding=(0, 3))
        outer.add_column(no_wrap=True)
        outer.add_column(ratio=1)
        outer.add_row(_schedule_table(o), _disclosure(o))
        return outer
    return Group(_schedule_table(o), Text(""), _disclosure(o))


@dataclass(frozen=True, slots=True)
class _Known:
    family: FamilyPage
    product: LoanProduct
    household: Household0


class NewLoanScreen(PageScreen):
    """The loan application form with its live preview."""

    AREA = "New loan"
    CSS_PATH = "new_loan.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save application", id="new_loan.save", priority=True),
    ]

    class FormReady(Message):
        """The family, the product and the household were read."""

        def __init__(self, known: _Known) -> None:
            self.known = known
            super().__init__()

    class PreviewComputed(Message):
        """The preview for the typed values was computed."""

        def __init__(self, form: OfferInput, offer: LoanOffer | None,
                     problems: dict[str, str]) -> None:
            self.form, self.offer, self.problems = form, offer, problems
            super().__init__()

    class ApplicationSaved(Message):
        """The application was saved as a loan."""

        def __init__(self, loan_id: int) -> None:
            self.loan_id = loan_id
            super().__init__()

    def __init__(self, family_id: int) -> None:
        super().__init__()
        self.family_id = family_id
        self.known: _Known | None = None
        self.offer: LoanOffer | None = None
        self.dirty = False

    def body(self) -> ComposeResult:
        with VerticalScroll(id="new-loan-scroll"):
            yield Static("reading the family…", id="new-loan-family")
            for name, label in FIELDS:
                with Horizontal(classes="new-loan-row"):
                    yield Label(label, classes="new-loan-label")
                    yield Input(id=f"new-loan-{name}", compact=True, classes="new-loan-input")
                    yield Static("", id=f"new-loan-problem-{name}", classes="new-loan-problem")
            yield Static("", id="new-loan-preview")

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exit_on_error=False)
    def _read(self) -> None:
        with self.fsf.read_session() as session:
            family = family_page(session, actor=self.ctx.user, family_id=self.family_id)
            product = find_product(session, FOUNDATION_PRODUCT.code)
            household = household_defaults(session, self.family_id)
        self.post_message(self.FormReady(_Known(family, product, household)))

    @on(FormReady)
    def _ready(self, event: FormReady) -> None:
        k = self.known = event.known
        f, p = k.family, k.product
        open_loans = [x.ref for x in f.loans if x.status in ("applied", "approved", "active")]
        warn = (f"  [b red]Has open loan {open_loans[0]}: close it first.[/]"
                if open_loans else "")
        low = Money.from_minor(p.min_principal_minor, p.currency)
        high = Money.from_minor(p.max_principal_minor, p.currency)
        self.query_one("#new-loan-family", Static).update(
            f"[b]{f.ref} {f.name_latin}[/b] ({f.village})  {f.name}{warn}\n"
            f"{p.name}: {low}–{high}, {p.rate:f} % a {p.rate_period}, "
            f"{p.min_repayments}–{p.max_repayments} months")
        defaults = {
            "ref": f"{f.ref}-L{len(f.loans) + 1}", "principal": "",
            "repayments": str(p.max_repayments), "applied_on": self.ctx.today.isoformat(),
            "first_due_on": "", "grace_principal": "0",
            "income": k.household.income.plain() if k.household.income else "",
            "costs": k.household.costs.plain() if k.household.costs else "",
        }
        for name, value in defaults.items():
            self.query_one(f"#new-loan-{name}", Input).value = value
        self.query_one("#new-loan-principal", Input).focus()
        self.dirty = False

    def _form(self) -> OfferInput:
        value = {name: self.query_one(f"#new-loan-{name}", Input).value for name, _ in FIELDS}
        return OfferInput(value["principal"], value["repayments"], value["applied_on"],
                          value["first_due_on"], value["grace_principal"], value["income"],
                          value["costs"])

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if self.known is None:
            return
        self.dirty = True
        self._preview(self._form())

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        at = inputs.index(event.input)
        inputs[(at + 1) % len(inputs)].focus()

    @work(thread=True, exclusive=True, group="new-loan-preview", exit_on_error=False)
    def _preview(self, form: OfferInput) -> None:
        assert self.known is not None
        offer, problems = make_offer(self.known.product, self.known.household, form,
                                     today=self.ctx.today,
                                     registered_on=self.known.family.registered_on)
        self.post_message(self.PreviewComputed(form, offer, problems))

    @on(PreviewComputed)
    def _previewed(self, event: PreviewComputed) -> None:
        if event.form != self._form():
            return  # typed on since; a newer preview is coming
        self.offer = event.offer
        for name, _ in FIELDS:
            self.query_one(f"#new-loan-problem-{name}", Static).update(
                Text(event.problems.get(name, ""), style="red"))
        box = self.query_one("#new-loan-preview", Static)
        if event.offer is None:
            box.update(Text("The preview appears when every field reads.", style="dim"))
            return
        self._show_offer(event.offer)

    def on_resize(self) -> None:
        if self.offer is not None:  # side by side or stacked: it depends on the width
            self._show_offer(self.offer)

    def _show_offer(self, offer: LoanOffer) -> None:
        box = self.query_one("#new-loan-preview", Static)
        box.update(render_offer(offer, box.size.width or self.size.width))

    def action_save(self) -> None:
        self._save_flow()

    @work(exclusive=True, group="new-loan-save", exit_on_error=False)
    async def _save_flow(self) -> None:
        if self.known is None or self.offer is None:
            self.notify("Complete the form first: the preview shows when every field reads.",
                        severity="warning")
            return
        f, o = self.known.family, self.offer
        ref = self.query_one("#new-loan-ref", Input).value.strip()
        message = (f"Save application {ref}: {Money(o.terms.principal, o.terms.currency)} over "
                   f"{o.terms.repayments} months for {f.name_latin} ({f.ref}), applied "
                   f"{o.terms.disbursed_on}. APR {percent(o.disclosure.apr)} %.")
        if await self.app.push_screen_wait(ConfirmDialog("Save this application?", message,
                                                         confirm="Save")):
            self._apply(ref, o)

    @work(thread=True, exclusive=True, group="new-loan-apply", exit_on_error=False)
    def _apply(self, ref: str, o: LoanOffer) -> None:
        from ledger.services.loans import apply_for_loan
        from ledger.services.setup import DEFAULT_FUND

        with self.fsf.write_session() as session:
            loan = apply_for_loan(
                session, actor=self.ctx.user, ref=ref, family_id=self.family_id,
                product_code=FOUNDATION_PRODUCT.code, fund_code=DEFAULT_FUND,
                principal=Money(o.terms.principal, o.terms.currency),
                repayments=o.terms.repayments, applied_on=o.terms.disbursed_on,
                today=self.ctx.today, first_due_on=o.terms.first_due_on,
                grace_principal=o.terms.grace_principal)
            assert loan.id is not None
            loan_id = loan.id
        self.post_message(self.ApplicationSaved(loan_id))

    @on(ApplicationSaved)
    def _saved(self, event: ApplicationSaved) -> None:
        self.dirty = False
        self.notify("Application saved. Approve (a) and disburse (d) here.", timeout=8)
        from tui.screens.loan import LoanScreen

        self.app.switch_screen(LoanScreen(event.loan_id))

    @work(exclusive=True, group="new-loan-leave", exit_on_error=False)
    async def action_back(self) -> None:
        if self.dirty and not await self.app.push_screen_wait(ConfirmDialog(
                "Leave without saving?", "What you typed in this form will be lost.",
                confirm="Leave")):
            return
        self.dismiss(None)
