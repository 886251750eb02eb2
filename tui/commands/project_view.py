"""How `fsf project` and `fsf household show` print: one stable JSON object (amounts as strings
of whole riel, or of the line's own currency; rates as percent strings with two decimals; dates
ISO) documented in docs/projections.md, or readable tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledger.disclosure import disclose, percent
from ledger.money import KHR, Money
from ledger.projection import Capacity, CashLine, Grid
from ledger.services.households import StoredGrid
from ledger.services.projections import FamilyProjection

__all__ = ["grid_json", "grid_text", "month_labels", "project_json", "project_text"]


def _plain(value: Decimal) -> str:
    return Money(value, KHR).plain()


def _shown(value: Decimal) -> str:
    return str(Money(value, KHR))


def _row(values: tuple[Decimal, ...]) -> list[str]:
    return [_plain(v) for v in values]


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else percent(value)


def month_labels(start: date, months: int) -> list[str]:
    """`YYYY-MM` of each grid month: month 1 is the month after `start`."""
    out = []
    for k in range(1, months + 1):
        n = start.year * 12 + start.month - 1 + k
        out.append(f"{n // 12:04d}-{n % 12 + 1:02d}")
    return out


def _line_json(line: CashLine) -> dict[str, Any]:
    return {
        "category": line.category.value,
        "label": line.label,
        "currency": line.currency.code,
        "seasonal": line.seasonal,
        "amounts": [Money(v, line.currency).plain() for v in line.amounts],
    }


def grid_json(grid: StoredGrid) -> dict[str, Any]:
    """One recorded snapshot: its lines as entered (one amount, or twelve from January)."""
    return {
        "id": grid.id,
        "recorded_on": grid.recorded_on.isoformat(),
        "recorded_by": grid.recorded_by,
        "usd_rate": None if grid.usd_rate is None else f"{grid.usd_rate.normalize():f}",
        "rate_on": None if grid.rate_on is None else grid.rate_on.isoformat(),
        "savings": _plain(grid.savings),
        "follow_up_id": grid.follow_up_id,
        "note": grid.note,
        "incomes": [_line_json(x) for x in grid.incomes],
        "expenses": [_line_json(x) for x in grid.expenses],
    }


def _grid_rows(grid: Grid, start: date) -> dict[str, Any]:
    return {
        "months": month_labels(start, grid.months),
        "incomes": {s.value: _row(r) for s, r in grid.incomes},
        "expenses": {e.value: _row(r) for e, r in grid.expenses},
        "activity_costs": _row(grid.activity_costs),
        "debt_service": _row(grid.debt_service),
        "loan": _row(grid.loan),
        "income": _row(grid.income),
        "expense": _row(grid.expense),
        "net_income": _row(grid.net_income),
        "surplus": _row(grid.surplus),
        "opening_cash": _plain(grid.opening_cash),
    }


def _capacity(cap: Capacity) -> dict[str, Any]:
    return {
        "net_income": _plain(cap.net_income),
        "debt_service": _plain(cap.debt_service),
        "index_before": _pct(cap.index_before),
        "solvency_before": cap.solvency_before.value,
        "index": _pct(cap.index),
        "solvency": cap.solvency.value,
        "installment_capacity": _plain(cap.installment_capacity),
        "largest_loan": _plain(cap.largest_loan),
        "missed_months": list(cap.missed_months),
        "shortfall": _plain(cap.path.total_shortfall),
    }


def _loan(p: FamilyProjection) -> dict[str, Any] | None:
    if p.schedule is None:
        return None
    info, s = disclose(p.schedule), p.schedule
    return {
        "principal": _plain(s.terms.principal),
        "months": s.terms.repayments,
        "rate": f"{s.terms.rate.normalize():f}",
        "installment": _plain(s.installments[0].total),
        "last_installment": _plain(s.installments[-1].total),
        "total_interest": _plain(s.total_interest),
        "apr": percent(info.apr),
        "eir": percent(info.eir),
    }


def _viability(p: FamilyProjection) -> dict[str, Any] | None:
    v, a = p.viability, p.activity
    if v is None or a is None:
        return None
    return {
        "kind": a.kind.value,
        "unit": a.unit,
        "capital": _plain(v.capital),
        "minimum_capital": _plain(v.minimum_capital),
        "capital_sufficient": v.capital_sufficient,
        "monthly_profit": _plain(v.monthly_profit),
        "return_on_capital": percent(v.return_on_capital),
        "payback_month": v.payback_month,
        "break_even_price": _plain(v.break_even_price),
        "sale_months": list(v.flows.sale_months),
        "viable": v.viable,
        "warnings": list(v.warnings),
    }


def project_json(p: FamilyProjection) -> dict[str, Any]:
    """The stable JSON shape of `fsf project --json` (see docs/projections.md)."""
    mc = p.monte_carlo
    return {
        "family": p.family.ref,
        "head_name": p.family.head_name,
        "village": p.family.village_name,
        "as_of": p.as_of.isoformat(),
        "currency": "KHR",
        "months": p.months,
        "grid_source": {
            "id": p.source.id,
            "recorded_on": p.source.recorded_on.isoformat(),
            "usd_rate": f"{p.household.usd_rate.normalize():f}",
            "rate_on": None if p.source.rate_on is None else p.source.rate_on.isoformat(),
            "follow_up_id": p.source.follow_up_id,
        },
        "activity": None if p.activity is None else p.activity.kind.value,
        "loan": _loan(p),
        "grid": _grid_rows(p.grid, p.as_of),
        "debts": [{"label": d.label,
                   "payments": [_plain(d.payment(k)) for k in range(1, p.months + 1)]}
                  for d in p.household.debts],
        "capacity": _capacity(p.capacity),
        "viability": _viability(p),
        "financing": [
            {
                "label": o.label,
                "monthly_rate": f"{o.monthly_rate.normalize():f}",
                "form": o.form,
                "installment": _plain(o.installment),
                "last_installment": _plain(o.last_installment),
                "total_interest": _plain(o.total_interest),
                "index": _pct(o.index),
                "solvency": o.solvency.value,
                "missed_months": list(o.missed_months),
                "covers_financing": o.covers_financing,
                "saving": _plain(o.saving),
            }
            for o in p.financing
        ],
        "stress": [
            {
                "shock": r.shock.kind.value,
                "label": r.shock.label,
                "share": percent(r.shock.share),
                "month": r.shock.month,
                **_capacity(r.capacity),
            }
            for r in p.stress
        ],
        "monte_carlo": None if mc is None else {
            "scenarios": mc.scenarios,
            "months": mc.months,
            "seed": mc.seed,
            "missed_installment_pct": percent(mc.probability_of_missed_installment),
            "expected_shortfall": _plain(mc.expected_shortfall),
            "worst_shortfall": _plain(mc.worst_shortfall),
        },
        "warnings": list(p.warnings),
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(widths[0]) if c == 0 else cell.rjust(widths[c])
                 for c, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _amounts(line: CashLine) -> str:
    shown = [str(Money(v, line.currency)) for v in line.amounts]
    return shown[0] + " a month" if not line.seasonal else ", ".join(shown) + " (Jan–Dec)"


def grid_text(grid: StoredGrid) -> str:
    """A recorded snapshot as lines a person reads."""
    rate = (f"; {grid.usd_rate.normalize():f} riel per dollar on {grid.rate_on}"
            if grid.usd_rate is not None else "")
    visit = f"; from follow-up visit {grid.follow_up_id}" if grid.follow_up_id else ""
    out = [f"Grid {grid.id} recorded on {grid.recorded_on} by {grid.recorded_by}{rate}{visit}"]
    for title, lines in (("Income", grid.incomes), ("Expense", grid.expenses)):
        for line in lines:
            label = f" ({line.label})" if line.label else ""
            out.append(f"  {title:<8}{line.category.value}{label}: {_amounts(line)}")
    if grid.savings:
        out.append(f"  Savings {_shown(grid.savings)}")
    if grid.note:
        out.append(f"  Note: {grid.note}")
    return "\n".join(out)


def _month_table(grid: Grid, start: date) -> list[str]:
    rows = [["Month", "Income", "Expenses", "Activity costs", "Debts", "New loan", "Surplus"]]
    for k, label in enumerate(month_labels(start, grid.months)):
        rows.append([label, *(_shown(col[k]) for col in (
            grid.income, grid.expense, grid.activity_costs, grid.debt_service, grid.loan,
            grid.surplus))])
    return _table(rows)


def _index(value: Decimal | None) -> str:
    return "no net income" if value is None else f"{percent(value)} %"


def project_text(p: FamilyProjection) -> str:
    """The projection as a person reads it: months, capacity, activity, lenders, shocks, risk."""
    cap = p.capacity
    out = [f"{p.family.ref} {p.family.head_name} ({p.family.village_name}), "
           f"{p.months} months from {p.as_of}; grid of {p.source.recorded_on}"]
    if p.schedule is not None:
        s = p.schedule
        out.append(f"Foundation loan {_shown(s.terms.principal)} over {s.terms.repayments} "
                   f"months: {_shown(s.installments[0].total)} a month, total interest "
                   f"{_shown(s.total_interest)}")
    out += ["", *_month_table(p.grid, p.as_of), ""]
    out.append(f"Debt to net income: {_index(cap.index_before)} before ({cap.solvency_before}), "
               f"{_index(cap.index)} with the loan ({cap.solvency})")
    out.append(f"Can carry {_shown(cap.installment_capacity)} a month; largest loan over "
               f"{p.months} months {_shown(cap.largest_loan)}")
    missed = ", ".join(map(str, cap.missed_months)) or "none"
    out.append(f"Months an installment cannot be met: {missed}")
    if (v := p.viability) is not None and p.activity is not None:
        out += ["", f"Activity {p.activity.kind.value}: profit {_shown(v.monthly_profit)} a "
                f"month, needs {_shown(v.minimum_capital)} to start, payback month "
                f"{v.payback_month or 'none'}, break-even {_shown(v.break_even_price)} per "
                f"{p.activity.unit}: {'viable' if v.viable else 'not viable'}"]
    if p.financing:
        rows = [["Lender", "Installment", "Total interest", "Index %", "Missed", "Saves"]]
        for o in p.financing:
            rows.append([o.label, _shown(o.installment), _shown(o.total_interest),
                         percent(o.index) if o.index is not None else "-",
                         str(len(o.missed_months)), _shown(o.saving)])
        out += ["", *_table(rows)]
    rows = [["Shock", "Index %", "Class", "Can carry", "Missed"]]
    for r in p.stress:
        c = r.capacity
        rows.append([r.shock.label, percent(c.index) if c.index is not None else "-",
                     c.solvency.value, _shown(c.installment_capacity), str(len(c.missed_months))])
    out += ["", *_table(rows)]
    if (mc := p.monte_carlo) is not None:
        out += ["", f"Monte Carlo ({mc.scenarios} scenarios, seed {mc.seed}): misses an "
                f"installment in {percent(mc.probability_of_missed_installment)} %, expected "
                f"shortfall {_shown(mc.expected_shortfall)}, worst {_shown(mc.worst_shortfall)}"]
    if p.warnings:
        out += ["", *(f"Warning: {w}" for w in p.warnings)]
    return "\n".join(out)
