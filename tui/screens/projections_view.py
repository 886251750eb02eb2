"""How the projection screen draws a grid's lines and a projection: capacity, the financed
activity, stress tests, the Monte Carlo risk and the Foundation loan against the informal
lender as a bar chart. Pure: a projection comes in, Rich renderables go out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ledger.disclosure import percent
from ledger.money import KHR, Money
from ledger.projection import Capacity, CashLine, IncomeSource, MonteCarloResult
from ledger.services.projections import HouseholdProjection
from tui.screens.projections_data import Parsed
from tui.widgets.bar_chart import paired_bars
from tui.widgets.cells import counted

__all__ = ["capacity_line", "line_cells", "results_view", "risk_view", "save_message"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STYLE = {"solvent": "green", "at-risk": "yellow", "insolvent": "red"}


def _riel(value: Decimal) -> str:
    return str(Money(value, KHR))


def amounts_text(line: CashLine) -> str:
    """A line's amounts as a person reads them: one a month, or the months that differ."""
    if not line.seasonal:
        return f"{Money(line.amounts[0], line.currency)} a month"
    shown = [f"{_MONTHS[m]} {Money(v, line.currency)}" for m, v in enumerate(line.amounts)
             if v > 0]
    return ", ".join(shown) if shown else "nothing all year"


def line_cells(line: CashLine) -> tuple[str, str, str]:
    """The grid table's cells for a line: + income or − expense with its category, label,
    amounts."""
    sign = "+" if isinstance(line.category, IncomeSource) else "−"
    return f"{sign} {line.category.value}", line.label, amounts_text(line)


def _index(value: Decimal | None) -> str:
    return "no net income" if value is None else f"debt {percent(value)} % of net income"


def capacity_line(c: Capacity) -> Text:
    """The verdict in one line (the pilot tests read it)."""
    return Text(f"Capacity: {c.solvency.value.upper()} — {_index(c.index)}; can carry "
                f"{_riel(c.installment_capacity)} a month; largest loan "
                f"{_riel(c.largest_loan)}", style=f"bold {_STYLE[c.solvency.value]}")


def _verdict(p: HouseholdProjection) -> Table:
    c = p.capacity
    out = Table.grid(padding=(0, 1))
    out.add_row(capacity_line(c))
    out.add_row(f"Net income {_riel(c.net_income)} over {p.months} months; before the "
                f"loan: {c.solvency_before.value} ({_index(c.index_before)})")
    if p.schedule is not None:
        first = p.schedule.installments[0].total
        out.add_row(f"Foundation loan {_riel(p.schedule.terms.principal)} over {p.months} "
                    f"months: {_riel(first)} a month, interest "
                    f"{_riel(p.schedule.total_interest)}")
        missed = c.missed_months
        out.add_row(Text(f"Short of an installment in months {', '.join(map(str, missed))}",
                         style="red") if missed else
                    Text("Every installment is paid from the family's cash", style="green"))
    if p.viability is not None and p.activity is not None:
        v = p.viability
        word = "pays" if v.viable else "does not pay"
        back = f"pays back in month {v.payback_month}" if v.payback_month else "never pays back"
        out.add_row(Text(f"Activity {p.activity.kind.value}: {word} — profit "
                         f"{_riel(v.monthly_profit)} a month, {back}; needs "
                         f"{_riel(v.minimum_capital)} to start",
                         style="green" if v.viable else "red"))
    return out


def _stress(p: HouseholdProjection) -> Table:
    table = Table("Shock", "Verdict", "Short", "Largest loan", box=None, padding=(0, 1),
                  expand=True)
    table.columns[0].ratio = 1
    for column in table.columns[1:]:
        column.no_wrap = True
    table.columns[3].justify = "right"
    for r in p.stress:
        c = r.capacity
        table.add_row(r.shock.label, Text(c.solvency.value, style=_STYLE[c.solvency.value]),
                      f"{len(c.missed_months)} mo" if c.missed_months else "—",
                      _riel(c.largest_loan))
    return table


def _chart(p: HouseholdProjection) -> RenderableType:
    if not p.financing:
        return Text("No loan proposed: type an amount (or choose an activity) to compare the "
                    "Foundation with the informal lender.", style="dim")
    foundation, *informal = p.financing
    rows = [(f"{o.monthly_rate.normalize():f}% {'i-o' if o.form == 'interest-only' else 'flat'}",
             Money(foundation.total_interest, KHR), Money(o.total_interest, KHR))
            for o in informal]
    chart = paired_bars(rows, ("Foundation", "informal lender"), width=18)
    saving = sorted(o.saving for o in informal)
    if saving:
        chart.append(f"The Foundation's loan saves the family {_riel(saving[0])} to "
                     f"{_riel(saving[-1])} of interest.")
    return chart


def results_view(p: HouseholdProjection) -> tuple[RenderableType, RenderableType]:
    """The verdict, then the stress tests, the chart and any warnings (the Monte Carlo,
    drawn between them, comes later from its own worker)."""
    parts: list[RenderableType] = [
        Text("Stress tests", style="bold"), _stress(p),
        Text(f"\nInterest over {p.months} months: Foundation vs informal lender",
             style="bold"), _chart(p)]
    if p.warnings:
        parts.append(Text("\n" + "\n".join(f"⚠ {w}" for w in p.warnings), style="yellow"))
    return _verdict(p), Group(*parts)


def risk_view(result: MonteCarloResult | None, *, pending: bool = False) -> Text:
    """The Monte Carlo's line: pending, not applicable, or its result."""
    if pending:
        return Text("Monte Carlo: simulating…", style="dim")
    if result is None:
        return Text("Monte Carlo: no loan proposed.", style="dim")
    return Text(f"Monte Carlo ({result.scenarios:,} scenarios, seed {result.seed}): "
                f"{percent(result.probability_of_missed_installment)} % chance of missing an "
                f"installment; expected shortfall {_riel(result.expected_shortfall)}, worst "
                f"{_riel(result.worst_shortfall)}")


def _average(lines: Sequence[CashLine], rate: Decimal) -> Money:
    total = Decimal(0)
    for line in lines:
        months = line.amounts if line.seasonal else line.amounts * 12
        factor = 1 if line.currency == KHR else rate
        total += sum(months, Decimal(0)) * factor / 12
    return Money(total.quantize(Decimal(1)), KHR)


def save_message(who: str, parsed: Parsed, *, on: date, rate: Decimal,
                 replaces: date | None) -> str:
    """What the save confirmation states before anything is recorded."""
    incomes = [x for x in parsed.lines if isinstance(x.category, IncomeSource)]
    expenses = [x for x in parsed.lines if not isinstance(x.category, IncomeSource)]
    dollars = (f" Dollars at {parsed.usd_rate:f} riel per dollar of {parsed.rate_on}."
               if parsed.usd_rate is not None else "")
    kept = (f" The grid of {replaces} stays in the family's history." if replaces else "")
    return (f"Record a new cash-flow grid for {who}, dated {on}: "
            f"{counted(len(incomes), 'income line')} (about {_average(incomes, rate)} a month) "
            f"and {counted(len(expenses), 'expense line')} (about {_average(expenses, rate)} a "
            "month), savings "
            f"{Money(parsed.savings, KHR)}.{dollars}{kept}")
