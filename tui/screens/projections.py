"""Projections for a family: its monthly cash flows (editable; the last follow-up visit fills
them), the capacity verdict for a Foundation loan, stress tests, a Monte Carlo risk, and the
Foundation loan against the informal lender as a chart of what each costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Static

from ledger.money import KHR, Money
from ledger.projection import (
    CashLine,
    ExpenseKind,
    Household,
    IncomeSource,
    build_grid,
    informal_debt_service,
    simulate,
    stress_test,
)
from ledger.services.products import FOUNDATION_PRODUCT, find_product
from tui.screens.base import LedgerScreen
from tui.screens.data.families import family_page
from tui.screens.data.offer import OfferInput, household_defaults, make_offer
from tui.widgets.bar_chart import paired_bars

__all__ = ["ProjectionsScreen"]

FIELDS = (("income", "Income a month"), ("costs", "Living costs a month"),
          ("principal", "Loan principal"), ("months", "Months"))


@dataclass(frozen=True, slots=True)
class _Ready:
    name: str
    registered_on: Any
    product: Any
    household: Any


class ProjectionsScreen(LedgerScreen):
    """A family's projection (open one from its page with p, or from the palette)."""

    AREA = "Projections"
    CSS_PATH = "projections.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="projections.back", show=False),
    ]

    class ProjectionComputed(Message):
        """The projection for the typed figures was computed."""

        def __init__(self, view: RenderableType) -> None:
            self.view = view
            super().__init__()

    class FamilyReady(Message):
        """The family and its figures were read."""

        def __init__(self, ready: _Ready) -> None:
            self.ready = ready
            super().__init__()

    def __init__(self, family_id: int | None = None) -> None:
        super().__init__()
        self.family_id = family_id
        self.ready: _Ready | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Open a family (Families, or ctrl+p) and press p for its projection."
                         if self.family_id is None else "reading…", id="projections-family")
            for name, label in FIELDS:
                with Horizontal(classes="projections-row"):
                    yield Label(label, classes="projections-label")
                    yield Input(id=f"projections-{name}", compact=True,
                                classes="projections-input")
            yield Static("", id="projections-view")

    def on_mount(self) -> None:
        if self.family_id is not None:
            self._read(self.family_id)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1 and self.family_id is not None:
            self.dismiss(None)

    @work(thread=True, exit_on_error=False)
    def _read(self, family_id: int) -> None:
        with self.fsf.read_session() as session:
            page = family_page(session, actor=self.ctx.user, family_id=family_id)
            ready = _Ready(f"{page.ref} {page.name_latin}  {page.name}", page.registered_on,
                           find_product(session, FOUNDATION_PRODUCT.code),
                           household_defaults(session, family_id))
        self.post_message(self.FamilyReady(ready))

    @on(FamilyReady)
    def _ready(self, event: FamilyReady) -> None:
        r = self.ready = event.ready
        self.query_one("#projections-family", Static).update(Text(r.name, style="bold"))
        h = r.household
        values = {"income": h.income.plain() if h.income else "",
                  "costs": h.costs.plain() if h.costs else "", "principal": "150000",
                  "months": "10"}
        for name, value in values.items():
            self.query_one(f"#projections-{name}", Input).value = value
        self.query_one("#projections-income", Input).focus()

    @on(Input.Changed)
    def _typed(self) -> None:
        if self.ready is not None:
            self._compute({n: self.query_one(f"#projections-{n}", Input).value
                           for n, _ in FIELDS})

    @work(thread=True, exclusive=True, group="projection", exit_on_error=False)
    def _compute(self, v: dict[str, str]) -> None:
        assert self.ready is not None
        form = OfferInput(v["principal"], v["months"], self.ctx.today.isoformat(), "", "0",
                          v["income"], v["costs"])
        offer, problems = make_offer(self.ready.product, self.ready.household, form,
                                     today=self.ctx.today,
                                     registered_on=self.ready.registered_on)
        if offer is None or offer.capacity is None:
            why = "; ".join(f"{k}: {p}" for k, p in problems.items()) or \
                "type the household's income and costs"
            self.post_message(self.ProjectionComputed(Text(why, style="red")))
            return
        self.post_message(self.ProjectionComputed(self._view(offer, v)))

    def _view(self, offer: Any, v: dict[str, str]) -> RenderableType:
        h = self.ready.household  # type: ignore[union-attr]
        start = offer.terms.disbursed_on
        home = Household(
            incomes=(CashLine(IncomeSource.OTHER, (Money.parse(v["income"], "KHR").amount,)),),
            expenses=(CashLine(ExpenseKind.OTHER, (Money.parse(v["costs"], "KHR").amount,)),),
            debts=tuple(informal_debt_service(k, o, r) for k, o, r in h.debts), start=start)
        months = offer.terms.repayments
        grid = build_grid(home, months=months, loan=offer.schedule)
        c = offer.capacity
        verdict = Table.grid(padding=(0, 2))
        verdict.add_row(Text(f"Capacity: {c.solvency.value.upper()}", style="bold"),
                        f"can carry {Money(c.installment_capacity, KHR)}/month; largest loan "
                        f"{Money(c.largest_loan, KHR)}")
        stress = Table("Shock", "Verdict", "Largest loan", box=None, padding=(0, 1))
        for result in stress_test(grid, term=months, start=start):
            stress.add_row(result.shock.kind.value, result.capacity.solvency.value,
                           str(Money(result.capacity.largest_loan, KHR)))
        risk = simulate(home, offer.schedule, scenarios=2000, months=months)
        mc = Text(f"Monte Carlo ({risk.scenarios} scenarios): "
                  f"{risk.probability_of_missed_installment * 100:.1f} % chance of missing an "
                  f"installment; expected shortfall {Money(risk.expected_shortfall, KHR)}")
        foundation = Money(offer.schedule.total_interest, KHR)
        rows = [(o.label[:8], foundation, Money(o.total_interest, KHR))
                for o in offer.informal if o.form == "interest-only"]
        chart = paired_bars(rows, ("Foundation interest", "informal interest"), width=26)
        return Group(verdict, Text("\nStress tests", style="bold"), stress, Text(""), mc,
                     Text("\nWhat the loan costs: Foundation vs the informal lender",
                          style="bold"), chart)

    @on(ProjectionComputed)
    def _computed(self, event: ProjectionComputed) -> None:
        self.query_one("#projections-view", Static).update(event.view)
