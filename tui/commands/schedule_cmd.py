"""`fsf schedule`: the loan calculator — schedule, APR/EIR, warnings, informal-lender comparison."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer

from ledger.disclosure import Disclosure, InformalOffer, compare_informal, disclose, percent
from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
    Schedule,
    TermsError,
    default_multiple,
)
from ledger.money import Currency, Money
from ledger.schedule import build_schedule
from tui.commands import parsing
from tui.commands.errors import CliError, fail

Opt = typer.Option


def _plain(value: Decimal, cur: Currency) -> str:
    return Money(value, cur).plain()


def _shown(value: Decimal, cur: Currency) -> str:
    return str(Money(value, cur))


def schedule_json(
    schedule: Schedule, info: Disclosure, offers: tuple[InformalOffer, ...]
) -> dict[str, Any]:
    """The stable JSON shape documented in the README; amounts are strings in currency digits."""
    cur = schedule.currency
    return {
        "currency": cur.code,
        "principal": _plain(schedule.terms.principal, cur),
        "installments": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "principal": _plain(i.principal, cur),
                "interest": _plain(i.interest, cur),
                "total": _plain(i.total, cur),
                "balance": _plain(i.balance, cur),
            }
            for i in schedule.installments
        ],
        "totals": {
            "principal": _plain(schedule.total_principal, cur),
            "interest": _plain(schedule.total_interest, cur),
            "total": _plain(schedule.total, cur),
        },
        "apr": percent(info.apr),
        "eir": percent(info.eir),
        "warnings": list(info.warnings),
        "compare": [
            {
                "label": o.label,
                "monthly_rate": f"{o.monthly_rate:f}",
                "form": o.form,
                "installment": _plain(o.installment, cur),
                "total_interest": _plain(o.total_interest, cur),
                "apr": percent(o.apr),
                "eir": percent(o.eir),
                "saving": _plain(o.saving, cur),
            }
            for o in offers
        ],
    }


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[c]) if c in right else cell.ljust(widths[c])
            for c, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def schedule_text(
    schedule: Schedule, info: Disclosure, offers: tuple[InformalOffer, ...], fee: Decimal
) -> str:
    """A readable report: the schedule table, totals, APR/EIR, warnings and the comparison."""
    cur, t = schedule.currency, schedule.terms
    head = (
        f"{_shown(t.principal, cur)} at {t.rate:f} % a {t.rate_period.value}, {t.method.value}, "
        f"{t.amortization.value}, {t.repayments} repayments every {t.every} {t.unit.value}(s), "
        f"disbursed {t.disbursed_on.isoformat()}"
    )
    rows = [["#", "Due date", "Principal", "Interest", "Total", "Balance"]]
    for i in schedule.installments:
        rows.append(
            [
                str(i.number),
                i.due_date.isoformat(),
                _shown(i.principal, cur),
                _shown(i.interest, cur),
                _shown(i.total, cur),
                _shown(i.balance, cur),
            ]
        )
    rows.append(
        [
            "",
            "Total",
            _shown(schedule.total_principal, cur),
            _shown(schedule.total_interest, cur),
            _shown(schedule.total, cur),
            "",
        ]
    )
    out = [head, "", *_table(rows, {0, 2, 3, 4, 5}), ""]
    if fee:
        out.append(f"Upfront fee: {_shown(fee, cur)}")
    out.append(f"APR {percent(info.apr)} %   EIR {percent(info.eir)} %")
    out.extend(f"Warning: {w}" for w in info.warnings)
    if offers:
        out += ["", "Against the informal lender (same principal and term):"]
        crow = [["Lender", "Installment", "Total interest", "APR %", "EIR %", "Family saves"]]
        for o in offers:
            crow.append(
                [
                    o.label,
                    _shown(o.installment, cur),
                    _shown(o.total_interest, cur),
                    percent(o.apr),
                    percent(o.eir),
                    _shown(o.saving, cur),
                ]
            )
        out.extend(_table(crow, {1, 2, 3, 4, 5}))
    return "\n".join(out)


def read_terms(
    *,
    principal: str,
    currency: str,
    rate: str,
    per: str,
    method: str,
    amortization: str,
    repayments: str,
    every: str,
    unit: str,
    disbursed: str | None,
    first_due: str | None,
    multiple: str | None,
    grace_principal: str,
    grace_interest: str,
    today: date,
) -> LoanTerms:
    """Build validated terms from command-line text, naming the option at fault."""
    cur = parsing.currency("--currency", currency)
    if multiple is None:
        mult = default_multiple(cur)
    elif multiple.strip().lower() in {"none", "0"}:
        mult = None
    else:
        mult = parsing.amount("--multiple", multiple, cur)
    fields = {
        "principal": "--principal",
        "rate": "--rate",
        "repayments": "--repayments",
        "every": "--every",
        "grace_principal": "--grace-principal",
        "grace_interest": "--grace-interest",
        "grace": "--grace-principal/--grace-interest",
        "multiple": "--multiple",
        "first_due_on": "--first-due",
    }
    try:
        return LoanTerms(
            principal=parsing.amount("--principal", principal, cur),
            currency=cur,
            rate=parsing.rate("--rate", rate),
            rate_period=parsing.choice("--per", per, RatePeriod),
            method=parsing.choice("--method", method, InterestMethod),
            amortization=parsing.choice("--amortization", amortization, Amortization),
            repayments=parsing.whole("--repayments", repayments, minimum=1),
            every=parsing.whole("--every", every, minimum=1),
            unit=parsing.choice("--unit", unit, FrequencyUnit),
            disbursed_on=parsing.iso_date("--disbursed", disbursed) if disbursed else today,
            first_due_on=parsing.iso_date("--first-due", first_due) if first_due else None,
            multiple=mult,
            grace_principal=parsing.whole("--grace-principal", grace_principal, minimum=0),
            grace_interest=parsing.whole("--grace-interest", grace_interest, minimum=0),
        )
    except TermsError as exc:
        name, why = exc.problems[0]
        raise CliError(fields.get(name, name), why) from exc


def register(app: typer.Typer) -> None:
    """Attach `fsf schedule` to the command line."""

    @app.command("schedule")
    def schedule(
        principal: Annotated[str, Opt(help="Amount lent, e.g. 200000 or '200,000 ៛'.")],
        rate: Annotated[str, Opt(help="Interest rate in percent per --per.")],
        repayments: Annotated[str, Opt(help="Number of repayments.")],
        currency: Annotated[str, Opt(help="KHR or USD.")] = "KHR",
        per: Annotated[str, Opt(help="Rate period: month or year.")] = "month",
        method: Annotated[str, Opt(help="declining, flat or interest-only.")] = "declining",
        amortization: Annotated[
            str, Opt(help="equal-installments or equal-principal.")
        ] = "equal-installments",
        every: Annotated[str, Opt(help="Repay every N units.")] = "1",
        unit: Annotated[str, Opt(help="month or week.")] = "month",
        disbursed: Annotated[str | None, Opt(help="Disbursement date (default today).")] = None,
        first_due: Annotated[str | None, Opt(help="First due date (default one period).")] = None,
        multiple: Annotated[
            str | None, Opt(help="Installments in multiples of (KHR: 100; 'none' for none).")
        ] = None,
        grace_principal: Annotated[str, Opt(help="Periods without principal.")] = "0",
        grace_interest: Annotated[str, Opt(help="Periods with interest deferred.")] = "0",
        fee: Annotated[str, Opt(help="Upfront fee deducted at disbursement.")] = "0",
        compare: Annotated[
            bool, Opt("--compare-informal", help="Compare with informal lenders at 10 and 15 %.")
        ] = False,
        as_json: Annotated[bool, Opt("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Compute a repayment schedule with its APR/EIR, as a borrower would be shown it."""
        try:
            terms = read_terms(
                principal=principal,
                currency=currency,
                rate=rate,
                per=per,
                method=method,
                amortization=amortization,
                repayments=repayments,
                every=every,
                unit=unit,
                disbursed=disbursed,
                first_due=first_due,
                multiple=multiple,
                grace_principal=grace_principal,
                grace_interest=grace_interest,
                today=date.today(),
            )
            fee_amount = parsing.amount("--fee", fee, terms.currency, positive=False)
            if fee_amount >= terms.principal:
                raise CliError("--fee", "must be less than the principal")
        except CliError as exc:
            fail("schedule", exc)
        sched = build_schedule(terms)
        info = disclose(sched, fee=fee_amount)
        offers = compare_informal(sched, fee=fee_amount) if compare else ()
        if as_json:
            typer.echo(json.dumps(schedule_json(sched, info, offers), ensure_ascii=False))
        else:
            typer.echo(schedule_text(sched, info, offers, fee_amount))
