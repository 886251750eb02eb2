"""One line of a family's cash-flow grid, as the grid model holds it: an income source or an
expense kind, a label, riel or dollars, and one amount for every month or twelve (seasonal,
January to December). Each amount is checked as it is typed; the dialog returns the line only
when every amount reads. It never touches the database: the screen that opened it keeps the
line in its draft until the grid is saved."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ledger.money import Money, MoneyError, get_currency
from ledger.projection import CashLine, ExpenseKind, IncomeSource

__all__ = ["GridLineDialog"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CATEGORIES: tuple[tuple[str, str], ...] = (
    *((f"income: {s.value}", f"income:{s.value}") for s in IncomeSource),
    *((f"expense: {k.value}", f"expense:{k.value}") for k in ExpenseKind),
)
CURRENCIES = (("riel (KHR)", "KHR"), ("dollars (USD)", "USD"))


def _category(value: str) -> IncomeSource | ExpenseKind:
    kind, _, name = value.partition(":")
    return IncomeSource(name) if kind == "income" else ExpenseKind(name)


def _key(line: CashLine) -> str:
    kind = "income" if isinstance(line.category, IncomeSource) else "expense"
    return f"{kind}:{line.category.value}"


class GridLineDialog(ModalScreen[CashLine | None]):
    """Dismisses the line as typed, or None on Cancel or Escape (the draft is unchanged)."""

    CSS_PATH = "grid_line.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="grid_line.cancel"),
    ]

    def __init__(self, title: str, line: CashLine | None = None, *,
                 kind: str = "income") -> None:
        super().__init__()
        self.title_text = title
        self.line = line or CashLine(IncomeSource.WAGE if kind == "income" else ExpenseKind.FOOD,
                                     (Decimal(0),))
        self.new = line is None

    def compose(self) -> ComposeResult:
        line = self.line
        seasonal = line.amounts if line.seasonal else line.amounts[:1] * 12
        money = [Money(v, line.currency) for v in seasonal]
        with Vertical(id="grid-line"):
            yield Static(self.title_text, classes="title")
            with Horizontal(classes="grid-line-row"):
                yield Label("Category", classes="grid-line-label")
                yield Select(CATEGORIES, value=_key(line), allow_blank=False, compact=True,
                             id="grid-line-category")
            with Horizontal(classes="grid-line-row"):
                yield Label("Label", classes="grid-line-label")
                yield Input(line.label, placeholder="e.g. garment factory, Bavet", compact=True,
                            id="grid-line-text")
            with Horizontal(classes="grid-line-row"):
                yield Label("Currency", classes="grid-line-label")
                yield Select(CURRENCIES, value=line.currency.code, allow_blank=False,
                             compact=True, id="grid-line-currency")
            yield Checkbox("Seasonal: an amount for each month, January to December",
                           line.seasonal, compact=True, id="grid-line-seasonal")
            with Horizontal(classes="grid-line-row", id="grid-line-flat"):
                yield Label("Every month", classes="grid-line-label")
                yield Input("" if self.new else money[0].plain(), compact=True,
                            id="grid-line-amount", classes="grid-line-amount")
            with Grid(id="grid-line-months"):
                for n, name in enumerate(MONTHS):
                    yield Label(name, classes="grid-line-month")
                    yield Input(money[n].plain(), compact=True, id=f"grid-line-m{n + 1}",
                                classes="grid-line-amount")
            yield Static("", id="grid-line-problem")
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel")
                yield Button("Keep line (Enter)", id="keep", variant="primary")

    def on_mount(self) -> None:
        self._show_seasonal(self.line.seasonal)
        first = "#grid-line-m1" if self.line.seasonal else "#grid-line-amount"
        self.query_one(first, Input).focus()

    def _show_seasonal(self, seasonal: bool) -> None:
        self.query_one("#grid-line-flat").display = not seasonal
        self.query_one("#grid-line-months").display = seasonal

    @property
    def _seasonal(self) -> bool:
        return self.query_one("#grid-line-seasonal", Checkbox).value

    def _fields(self) -> list[tuple[str, Input]]:
        if self._seasonal:
            return [(m, self.query_one(f"#grid-line-m{n + 1}", Input))
                    for n, m in enumerate(MONTHS)]
        return [("Every month", self.query_one("#grid-line-amount", Input))]

    def _problems(self) -> list[str]:
        """Each amount that does not read, named by its field; marks those inputs."""
        code = str(self.query_one("#grid-line-currency", Select).value)
        out = []
        for name, box in self._fields():
            problem = None
            try:
                if Money.parse(box.value, code).amount < 0:
                    problem = "cannot be negative"
            except (MoneyError, TypeError, ValueError) as exc:
                problem = str(exc) if box.value.strip() else "type an amount (0 for none)"
            box.set_class(problem is not None, "grid-line-bad")
            if problem:
                out.append(f"{name}: {problem}")
        return out

    def _check(self) -> bool:
        problems = self._problems()
        self.query_one("#grid-line-problem", Static).update("\n".join(problems))
        return not problems

    @on(Input.Changed, ".grid-line-amount")
    @on(Select.Changed, "#grid-line-currency")
    def _typed(self) -> None:
        self._check()

    @on(Checkbox.Changed, "#grid-line-seasonal")
    def _seasonal_changed(self, event: Checkbox.Changed) -> None:
        flat = self.query_one("#grid-line-amount", Input)
        months = [self.query_one(f"#grid-line-m{n + 1}", Input) for n in range(12)]
        if event.value and flat.value.strip():
            for box in months:  # start every month from the amount typed for all
                box.value = flat.value
        elif not event.value and not flat.value.strip():
            flat.value = months[0].value
        self._show_seasonal(event.value)
        self._check()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._finish()

    def _finish(self) -> None:
        if not self._check():
            bad = next(box for _, box in self._fields() if box.has_class("grid-line-bad"))
            bad.focus()
            return
        code = str(self.query_one("#grid-line-currency", Select).value)
        amounts = tuple(Money.parse(box.value, code).amount for _, box in self._fields())
        self.dismiss(CashLine(
            _category(str(self.query_one("#grid-line-category", Select).value)), amounts,
            get_currency(code), self.query_one("#grid-line-text", Input).value.strip(),
            self._seasonal))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "keep":
            self._finish()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
