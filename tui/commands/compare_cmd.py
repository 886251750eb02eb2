"""`fsf compare`: the Foundation's loan against the informal moneylender's, side by side."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer

from ledger.disclosure import percent
from ledger.loan_terms import TermsError
from ledger.money import KHR, Money
from ledger.projection.capacity import FoundationProduct
from ledger.projection.informal import Comparison, foundation_vs_informal
from tui.commands import parsing
from tui.commands.errors import CliError, fail

Opt = typer.Option
# Ten years: far beyond any Foundation loan, and it keeps the rate solver quick.
MAX_MONTHS = 120


def _plain(value: Decimal) -> str:
    return Money(value, KHR).plain()


def _shown(value: Decimal) -> str:
    return str(Money(value, KHR))


def compare_json(comparison: Comparison) -> dict[str, Any]:
    """The stable JSON shape documented in the README; amounts are strings of whole riel."""
    schedule, info = comparison.schedule, comparison.disclosure
    return {
        "currency": "KHR",
        "principal": _plain(schedule.terms.principal),
        "months": schedule.terms.repayments,
        "foundation": {
            "installment": _plain(schedule.installments[0].total),
            "total_interest": _plain(schedule.total_interest),
            "apr": percent(info.apr),
            "eir": percent(info.eir),
        },
        "informal": [
            {
                "label": o.label,
                "monthly_rate": f"{o.monthly_rate.normalize():f}",
                "form": o.form,
                "installment": _plain(o.installment),
                "last_installment": _plain(o.last_installment),
                "total_interest": _plain(o.total_interest),
                "apr": percent(o.apr),
                "eir": percent(o.eir),
                "saving": _plain(o.saving),
            }
            for o in comparison.offers
        ],
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(widths[0]) if c == 0 else cell.rjust(widths[c]) for c, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def compare_text(comparison: Comparison) -> str:
    """A readable table: the Foundation's loan first, then each informal offer."""
    schedule, info = comparison.schedule, comparison.disclosure
    terms = schedule.terms
    rows = [["Lender", "Installment", "Last", "Total interest", "APR %", "EIR %", "Family saves"]]
    rows.append(
        [
            f"Foundation, {terms.rate.normalize():f} % a month, declining",
            _shown(schedule.installments[0].total),
            _shown(schedule.installments[-1].total),
            _shown(schedule.total_interest),
            percent(info.apr),
            percent(info.eir),
            "",
        ]
    )
    for o in comparison.offers:
        rows.append(
            [
                o.label,
                _shown(o.installment),
                _shown(o.last_installment),
                _shown(o.total_interest),
                percent(o.apr),
                percent(o.eir),
                _shown(o.saving),
            ]
        )
    head = f"Borrowing {_shown(terms.principal)} over {terms.repayments} months"
    return "\n".join([head, "", *_table(rows)])


def register(app: typer.Typer) -> None:
    """Attach `fsf compare` to the command line."""

    @app.command("compare")
    def compare(
        amount: Annotated[str, Opt(help="Riel borrowed, e.g. 200000 or '200,000 ៛'.")],
        months: Annotated[str, Opt(help="Number of monthly repayments.")],
        rate: Annotated[str, Opt(help="The Foundation's rate, percent a month.")] = "1",
        as_json: Annotated[bool, Opt("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """The Foundation's loan against moneylenders at 10 and 15 % a month."""
        try:
            principal = parsing.amount("--amount", amount, KHR)
            count = parsing.whole("--months", months, minimum=1)
            if count > MAX_MONTHS:
                raise CliError("--months", f"must be at most {MAX_MONTHS}, not {count}")
            product = FoundationProduct(rate=parsing.rate("--rate", rate))
            comparison = foundation_vs_informal(
                principal, count, product=product, start=date.today()
            )
        except TermsError as exc:
            name, why = exc.problems[0]
            fail("compare", CliError(f"--{name}", why))
        except CliError as exc:
            fail("compare", exc)
        if as_json:
            typer.echo(json.dumps(compare_json(comparison), ensure_ascii=False))
        else:
            typer.echo(compare_text(comparison))
