"""`fsf report loan|family|portfolio|reserve|fund|villages|collection|register` and
`fsf reserve set`: each a readable table, or with `--json` exactly one JSON object (the shapes
of `ledger.reports.json`, documented in docs/reports.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import typer

from ledger import reports as rp
from ledger.money import Money
from ledger.reports import json as js
from ledger.reports.loans import loan_register_rows
from ledger.reports.reserve import parse_bucket
from tui.commands.context import Cli, acting_actor, get_cli, ledger_session, run
from tui.commands.errors import CliError, fail
from tui.commands.parsing import iso_date, rate
from tui.commands.register_out import write_register
from tui.commands.report_group import report_group
from tui.commands.text_table import rule, table_line
from tui.widgets.cells import counted

Opt = typer.Option
T = TypeVar("T")
AsOf = Annotated[str | None, Opt("--as-of", help="Report as of this day (default today).")]
From = Annotated[str | None, Opt("--from", help="Start of the period for the rates "
                                                "(default: first day of the as-of month).")]
AsJson = Annotated[bool, Opt("--json", help="Print one JSON object.")]


def _day(command: str, option: str, text: str | None, default: date) -> date:
    if text is None:
        return default
    try:
        return iso_date(option, text)
    except CliError as exc:
        fail(command, exc)


def _as_of(ctx: typer.Context, command: str, text: str | None) -> date:
    """--as-of, or the ledger's today (a demo ledger's own day), read from the ledger."""
    if text is not None:
        return _day(command, "--as-of", text, date.min)
    cli: Cli = get_cli(ctx)
    with ledger_session(cli, command, reading=True):
        pass  # opening the ledger settles `cli.today` (see `ledger_today`)
    return cli.today


def _report(ctx: typer.Context, command: str, make: Callable[[Any, Any], T],
            reading: bool = True) -> T:
    """Open the ledger, find who acts, and run one report function (refusals → one line);
    a report only reads (`ledger_session`'s `reading`)."""
    cli: Cli = get_cli(ctx)
    with ledger_session(cli, command, reading=reading) as session:
        actor = acting_actor(cli, session)
        return run(command, lambda: make(session, actor))


def _emit(as_json: bool, data: dict[str, Any], text: Callable[[], list[str]]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else "\n".join(text()))


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append(table_line(row, widths, right))
        if n == 0:
            out.append(rule(widths))
    return out


def _pct(value: str | None) -> str:
    return "–" if value is None else f"{value} %"


def _name(latin: str | None, name: str) -> str:
    return latin or name


def loan_text(s: rp.LoanStatus) -> list[str]:
    """The loan status as labelled lines."""
    rows = [("Loan", f"{s.ref} (family {s.family_ref})"), ("As of", s.as_of.isoformat()),
            ("Status", s.status.replace("_", " ")), ("Principal", str(s.principal)),
            ("Disbursed", s.disbursed_on.isoformat() if s.disbursed_on else "–"),
            ("Outstanding principal", str(s.outstanding_principal)),
            ("Interest due and unpaid", str(s.interest_due)), ("Overdue", str(s.overdue)),
            ("Days overdue", f"{s.days_overdue:,} ({s.bucket})"),
            ("Next due", f"{s.next_due_date} {s.next_due_amount}" if s.next_due_date else "–"),
            ("Payoff amount", str(s.payoff))]
    width = max(len(k) for k, _ in rows)
    return [f"{k.ljust(width)}  {v}" for k, v in rows]


def family_text(s: rp.FamilyStatement) -> list[str]:
    """The family statement: per loan, its status, installments and money lines."""
    out = [f"Statement for {s.head_name} ({s.family_ref}), {s.village}, as of {s.as_of}"]
    if not s.loans:
        out.append("No loan disbursed by then.")
    for ls in s.loans:
        out += ["", *loan_text(ls.status), ""]
        out += _table([["#", "Due date", "Total", "Paid", "Outstanding"]] + [
            [str(i.number), i.due_date.isoformat(), str(i.total), str(i.paid),
             str(i.outstanding)] for i in ls.installments], {0, 2, 3, 4})
        out.append("")
        out += _table([["Date", "Movement", "Cash", "Principal", "Interest", "Balance"]] + [
            [m.on.isoformat(), m.kind.replace("_", " "), str(m.cash), str(m.principal),
             str(m.interest), str(m.balance)] for m in ls.lines], {2, 3, 4, 5})
    return out


def portfolio_text(p: rp.PortfolioQuality) -> list[str]:
    """Portfolio quality: totals, PAR, ageing buckets and rates."""
    data = js.portfolio_json(p)
    out = [f"Portfolio quality as of {p.as_of} (period from {p.period_start}; PAR counts "
           f"loans {p.par_boundary} the threshold, renegotiated loans included)",
           f"Gross loan portfolio {p.gross_portfolio} in {counted(p.active_loans, 'loan')} "
           f"({p.renegotiated_loans:,} renegotiated, {p.renegotiated_value})", ""]
    out += _table([["PAR", "Loans", "Value", "Rate"]] + [
        [f"PAR{x.threshold}", f"{x.loans:,}", str(x.value), _pct(data["par"][f"par{x.threshold}"]
                                                              ["rate"])] for x in p.par],
        {1, 2, 3})
    out.append("")
    out += _table([["Days overdue", "Loans", "Value"]] + [
        [b.bucket, f"{b.loans:,}", str(b.value)] for b in p.buckets], {1, 2})
    out += ["",
            f"On-time repayment rate  {_pct(data['on_time']['rate'])}  ({p.paid_on_time} paid "
            f"on time of {p.due_in_period} fallen due)",
            f"Cumulative repayment    {_pct(data['cumulative']['rate'])}  "
            f"({p.received_to_date} of {p.fallen_due_to_date})",
            f"Write-off ratio         {_pct(data['write_off']['ratio'])}  "
            f"({p.written_off_in_period} in {counted(p.loans_written_off_in_period, 'loan')}; "
            f"average portfolio {p.average_gross_portfolio})"]
    return out


def reserve_text(r: rp.LoanLossReserve) -> list[str]:
    """The loan-loss reserve per bucket and in total."""
    rows = [["Days overdue", "Loans", "Outstanding", "Rate", "Required"]]
    rows += [[x.bucket, f"{x.loans:,}", str(x.outstanding), f"{x.rate_pct:.2f} %",
              str(x.required)] for x in r.lines]
    rows.append(["Total", f"{sum(x.loans for x in r.lines):,}", str(r.outstanding), "",
                 str(r.required)])
    return [f"Loan-loss reserve as of {r.as_of}", "", *_table(rows, {1, 2, 3, 4})]


def fund_text(f: rp.FundPosition) -> list[str]:
    """The fund position."""
    rows: list[tuple[str, Money | str]] = [("Capital received", f.capital)]
    rows += [(f"  {name}", value) for name, value in f.capital_by_contributor]
    rows += [("Cash", f.cash)] + [(f"  {c.name}", c.balance) for c in f.cash_lines]
    rows += [("Loan portfolio", f.portfolio), ("  in the books", f.portfolio_in_books),
             ("  performing (not PAR30)", f.performing_portfolio),
             ("Interest earned", f.interest_earned), ("Fees and penalties", f.fees_earned),
             ("Recoveries", f.recoveries), ("Grants paid", f.grants_paid),
             ("Written off", f.written_off), ("Fund erosion", _pct(js.rate_pct(f.erosion)))]
    width = max(len(k) for k, _ in rows)
    values = [str(v) for _, v in rows]
    vw = max(len(v) for v in values)
    return [f"Fund {f.fund} as of {f.as_of}", ""] + [
        f"{k.ljust(width)}  {v.rjust(vw)}" for (k, _), v in zip(rows, values, strict=True)]


def villages_text(r: rp.VillagesReport) -> list[str]:
    """Villages with district and province subtotals and the total."""
    head = ["Village", "Code", "Families", "Loans", "Disbursed", "Outstanding", "Overdue",
            "PAR30", "On time"]

    def row(v: rp.VillageLine, label: str) -> list[str]:
        return [label, v.code or "", f"{v.families:,}", f"{v.active_loans:,}", str(v.disbursed),
                str(v.outstanding), str(v.overdue), _pct(js.rate_pct(v.par30_rate)),
                _pct(js.rate_pct(v.on_time_rate))]

    rows = [head] + [row(v, v.name) for v in r.villages]
    rows += [row(d, f"District {d.name}") for d in r.districts]
    rows += [row(p, f"Province {p.name}") for p in r.provinces] + [row(r.total, "Total")]
    return [f"Villages as of {r.as_of} (on time from {r.period_start}; sorted by {r.sort})",
            "", *_table(rows, set(range(2, 9)))]


def collection_text(c: rp.CollectionSheet) -> list[str]:
    """The collection sheet with a blank "Collected" column and totals."""
    rows = [["Family", "Name", "Loan", "Due this month", "Arrears", "To collect",
             "Last paid", "Amount", "Collected"]]
    rows += [[r.family_ref, _name(r.family_name_latin, r.family_name), r.loan_ref,
              str(r.due_this_month), str(r.arrears), str(r.to_collect),
              r.last_paid_on.isoformat() if r.last_paid_on else "–", str(r.last_paid),
              "__________"] for r in c.rows]
    rows.append(["Total", "", "", str(c.due_this_month), str(c.arrears), str(c.to_collect),
                 "", "", ""])
    return [f"Collection sheet, village {c.village_code} ({', '.join(c.village_names)}), "
            f"{c.month}", "", *_table(rows, {3, 4, 5, 7})]


def register(app: typer.Typer) -> None:
    """Attach the report commands to `fsf report`, and `fsf reserve set`."""
    group = report_group(app)

    @group.command("loan")
    def loan(ctx: typer.Context, ref: str, as_of: AsOf = None, as_json: AsJson = False) -> None:
        """One loan's status: outstanding, interest due, overdue, next due, payoff."""
        day = _as_of(ctx, "report loan", as_of)
        s = _report(ctx, "report loan", lambda ses, who: rp.loan_status(
            ses, actor=who, loan_id=rp.loan_id_for(ses, ref), as_of=day))
        _emit(as_json, js.loan_status_json(s), lambda: loan_text(s))

    @group.command("family")
    def family(ctx: typer.Context, ref: str, as_of: AsOf = None,
               as_json: AsJson = False) -> None:
        """A family's statement: every loan, installment and payment, with balances."""
        day = _as_of(ctx, "report family", as_of)
        s = _report(ctx, "report family", lambda ses, who: rp.family_statement(
            ses, actor=who, family_id=rp.family_id_for(ses, ref), as_of=day))
        _emit(as_json, js.family_json(s), lambda: family_text(s))

    @group.command("portfolio")
    def portfolio(ctx: typer.Context, as_of: AsOf = None, start: From = None,
                  boundary: Annotated[str, Opt("--par-boundary", help="'>=' (default): "
                                               "30 days late is in PAR30; '>': only more "
                                               "than 30.")] = ">=",
                  as_json: AsJson = False) -> None:
        """Portfolio quality: PAR1/30/90, ageing buckets, repayment and write-off rates."""
        day = _as_of(ctx, "report portfolio", as_of)
        begin = _day("report portfolio", "--from", start, day.replace(day=1))
        if boundary not in (">=", ">"):
            fail("report portfolio", CliError("--par-boundary",
                                              f"{boundary!r} is not one of: >=, >"))
        if begin > day:
            fail("report portfolio", CliError("--from", f"{begin} is after {day}"))
        p = _report(ctx, "report portfolio", lambda ses, who: rp.portfolio_quality(
            ses, actor=who, as_of=day, period_start=begin,
            par_boundary=">=" if boundary == ">=" else ">"))
        _emit(as_json, js.portfolio_json(p), lambda: portfolio_text(p))

    @group.command("reserve")
    def reserve(ctx: typer.Context, as_of: AsOf = None, as_json: AsJson = False) -> None:
        """The loan-loss reserve required per ageing bucket and in total."""
        day = _as_of(ctx, "report reserve", as_of)
        r = _report(ctx, "report reserve",
                    lambda ses, who: rp.loan_loss_reserve(ses, actor=who, as_of=day))
        _emit(as_json, js.reserve_json(r), lambda: reserve_text(r))

    @group.command("fund")
    def fund(ctx: typer.Context, as_of: AsOf = None,
             code: Annotated[str, Opt("--fund", help="Fund code.")] = "RIEL",
             as_json: AsJson = False) -> None:
        """The fund position: capital, cash, portfolio, income, grants, losses, erosion."""
        day = _as_of(ctx, "report fund", as_of)
        f = _report(ctx, "report fund", lambda ses, who: rp.fund_position(
            ses, actor=who, as_of=day, fund_code=code))
        _emit(as_json, js.fund_json(f), lambda: fund_text(f))

    @group.command("villages")
    def villages(ctx: typer.Context, as_of: AsOf = None, start: From = None,
                 sort: Annotated[str, Opt("--sort", help="One of: " + ", ".join(
                     rp.SORT_COLUMNS) + " (figures largest first).")] = "code",
                 as_json: AsJson = False) -> None:
        """Per village: families, loans, disbursed, outstanding, overdue, PAR30, on time."""
        day = _as_of(ctx, "report villages", as_of)
        begin = _day("report villages", "--from", start, day.replace(day=1))
        if sort not in rp.SORT_COLUMNS:
            fail("report villages", CliError("--sort", f"{sort!r} is not one of: "
                                                       f"{', '.join(rp.SORT_COLUMNS)}"))
        r = _report(ctx, "report villages", lambda ses, who: rp.villages_report(
            ses, actor=who, as_of=day, period_start=begin, sort=sort))
        _emit(as_json, js.villages_json(r), lambda: villages_text(r))

    @group.command("collection")
    def collection(ctx: typer.Context,
                   village: Annotated[str, Opt("--village", help="Village code.")],
                   month: Annotated[str, Opt("--month", help="YYYY-MM.")],
                   as_json: AsJson = False) -> None:
        """The month's collection sheet for a village treasurer."""
        c = _report(ctx, "report collection", lambda ses, who: rp.collection_sheet(
            ses, actor=who, village_code=village, month=month))
        _emit(as_json, js.collection_json(c), lambda: collection_text(c))

    @group.command("register")
    def loan_register(ctx: typer.Context, as_of: AsOf = None, as_json: AsJson = False) -> None:
        """Every disbursed loan with its terms, position, ageing and status."""
        day = _as_of(ctx, "report register", as_of)
        # Written while the rows are read, inside the ledger's session (`register_out`).
        _report(ctx, "report register", lambda ses, who: write_register(
            loan_register_rows(ses, actor=who, as_of=day), day, as_json=as_json,
            out=sys.stdout))

    reserve_app = typer.Typer(help="Loan-loss reserve rates.", no_args_is_help=True)
    app.add_typer(reserve_app, name="reserve")

    @reserve_app.command("set")
    def reserve_set(ctx: typer.Context, bucket: str, rate_text: Annotated[
            str, typer.Argument(metavar="RATE", help="Percent reserved, 0-100.")]) -> None:
        """Set the reserve rate of one ageing bucket (administrators): e.g. `1-30 10`."""
        try:
            value: Decimal = rate("RATE", rate_text)
        except CliError as exc:
            fail("reserve set", exc)
        row = _report(ctx, "reserve set", lambda ses, who: rp.set_reserve_rate(
            ses, actor=who, bucket=parse_bucket(bucket).value, rate=value), reading=False)
        typer.echo(f"Reserve rate for {row.bucket}: {row.rate_pct:.2f} %")
