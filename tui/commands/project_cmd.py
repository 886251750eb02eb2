"""`fsf household record|show` keeps a family's monthly cash-flow grid; `fsf project` sets a
proposed Foundation loan in it: capacity, the activity's viability, the moneylender's price,
shocks and a seeded Monte Carlo.

A line is written CATEGORY[:LABEL]=AMOUNTS: one amount for every month (`food=120000`,
`wage=$70`, `housing=40,000`) or twelve, January to December, separated by commas (or by
semicolons when the amounts themselves have thousands separators): `farming=0,0,…,400000,0,0,0`.
Dollar amounts (`$70`) need `--usd-rate` and `--rate-on`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from ledger.money import KHR, Currency, Money, MoneyError
from ledger.projection import ActivityKind, CashLine, ExpenseKind, IncomeSource
from ledger.services.errors import ServiceError
from ledger.services.households import (
    family_by_ref,
    grid_history,
    latest_grid,
    record_household_grid,
    visible_family,
)
from ledger.services.projections import MAX_MONTHS, SCENARIOS, project_family
from tui.commands import parsing
from tui.commands.context import acting_actor, demo_banner, get_cli, ledger_session, run
from tui.commands.errors import CliError, fail
from tui.commands.project_view import grid_json, grid_text, project_json, project_text

__all__ = ["parse_line", "register"]

Opt = typer.Option
JSON = Annotated[bool, Opt("--json", help="Print one JSON object.")]


def parse_line(option: str, text: str, kind: type[IncomeSource] | type[ExpenseKind]) -> CashLine:
    """CATEGORY[:LABEL]=AMOUNT or twelve amounts (January to December) → a `CashLine`."""
    head, sep, amounts = text.partition("=")
    if not sep or not amounts.strip():
        raise CliError(option, f"{text!r} is not CATEGORY=AMOUNT (e.g. food=120000)")
    name, _, label = head.partition(":")
    category = parsing.choice(option, name, kind)
    parts = amounts.split(";") if ";" in amounts else amounts.split(",")
    if len(parts) != 12:
        parts = [amounts]  # one amount, perhaps written with thousands separators
    values: list[Money] = []
    for part in parts:
        try:
            values.append(Money.parse(part.strip()))
        except (MoneyError, TypeError) as exc:
            raise CliError(option, f"{category.value}: {exc}") from exc
    currencies = {m.currency for m in values}
    if len(currencies) > 1:
        raise CliError(option, f"{category.value}: all twelve amounts must be in one currency")
    if any(m.amount < 0 for m in values):
        raise CliError(option, f"{category.value}: amounts cannot be negative")
    cur: Currency = values[0].currency
    return CashLine(category, tuple(m.amount for m in values), cur, label.strip(),
                    seasonal=len(values) == 12)


Output = dict[str, Any] | str
# The service's field names, as the options a person types.
_OPTIONS = {"usd_rate": "--usd-rate", "rate_on": "--rate-on", "recorded_on": "--on",
            "savings": "--savings", "follow_up": "--follow-up", "family": "--family"}


def _do(ctx: typer.Context, command: str, action: Callable[[Session, Any, date], Output],
        reading: bool = False) -> None:
    """Open the ledger, act as the user, turn refusals into one line, and print the result:
    JSON says `"demo": true` on a demo ledger, text starts with the DEMO line. `reading`:
    the command only reads (`ledger_session`)."""
    cli = get_cli(ctx)
    with ledger_session(cli, command, reading=reading) as session:
        actor = acting_actor(cli, session, command)
        try:
            result = run(command, lambda: action(session, actor, cli.today))
        except CliError as exc:
            fail(command, exc)
        banner = demo_banner(session)
        session.rollback()
    if isinstance(result, str):
        typer.echo(f"{banner}\n{result}" if banner else result)
    else:
        typer.echo(json.dumps({"demo": bool(banner), **result}, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Attach `fsf household …` and `fsf project`."""
    household = typer.Typer(help="A family's monthly incomes and expenses.",
                            no_args_is_help=True)
    app.add_typer(household, name="household")

    @household.command("record")
    def record_cmd(
        ctx: typer.Context,
        family: Annotated[str, Opt(help="Family reference.")],
        income: Annotated[list[str] | None, Opt(
            help="CATEGORY[:LABEL]=AMOUNT(S); wage, activity, farming, remittance, other.")
        ] = None,
        expense: Annotated[list[str] | None, Opt(
            help="CATEGORY[:LABEL]=AMOUNT(S); food, housing, health, schooling, other.")
        ] = None,
        usd_rate: Annotated[str | None, Opt(help="Riel per dollar for $ amounts.")] = None,
        rate_on: Annotated[str | None, Opt(help="Date of that rate (YYYY-MM-DD).")] = None,
        on: Annotated[str | None, Opt(help="Date of the grid (default today).")] = None,
        savings: Annotated[str, Opt(help="Riel the family has saved.")] = "0",
        follow_up: Annotated[str | None, Opt(help="Follow-up visit id it comes from.")] = None,
        note: Annotated[str, Opt(help="A note kept with the grid.")] = "",
        as_json: JSON = False,
    ) -> None:
        """Record a new snapshot of a family's monthly incomes and expenses."""
        def act(s: Session, actor: Any, today: date) -> Output:
            lines = [parse_line("--income", t, IncomeSource) for t in income or []]
            lines += [parse_line("--expense", t, ExpenseKind) for t in expense or []]
            if not lines:
                raise CliError("--income", "give at least one --income or --expense line")
            rate = None if usd_rate is None else parsing.amount("--usd-rate", usd_rate, KHR)
            try:
                grid = record_household_grid(
                    s, actor=actor, family_id=family_by_ref(s, family), lines=lines,
                    recorded_on=parsing.iso_date("--on", on) if on else today, usd_rate=rate,
                    rate_on=parsing.iso_date("--rate-on", rate_on) if rate_on else None,
                    follow_up_id=parsing.whole("--follow-up", follow_up, minimum=1)
                    if follow_up else None,
                    savings=parsing.amount("--savings", savings, KHR, positive=False),
                    note=note, today=today)
            except ServiceError as exc:
                option = _OPTIONS.get(exc.field or "", exc.field or "error")
                raise CliError(option, exc.message) from exc
            return grid_json(grid) if as_json else grid_text(grid)
        _do(ctx, "household record", act)

    @household.command("show")
    def show_cmd(
        ctx: typer.Context,
        family: Annotated[str, Opt(help="Family reference.")],
        as_of: Annotated[str | None, Opt(help="The grid in force that day.")] = None,
        history: Annotated[bool, Opt("--history", help="Every snapshot, oldest first.")] = False,
        as_json: JSON = False,
    ) -> None:
        """Show a family's current grid (or every grid recorded)."""
        def act(s: Session, actor: Any, today: date) -> Output:
            fid = family_by_ref(s, family)
            who = visible_family(s, actor=actor, family_id=fid)
            if history:
                grids = list(grid_history(s, actor=actor, family_id=fid))
            else:
                day = parsing.iso_date("--as-of", as_of) if as_of else today
                one = latest_grid(s, actor=actor, family_id=fid, as_of=day)
                grids = [one] if one is not None else []
            if as_json:
                return {"family": who.ref, "head_name": who.head_name,
                        "village": who.village_name, "grids": [grid_json(g) for g in grids]}
            body = "\n".join(grid_text(g) for g in grids) or "No grid recorded."
            return f"{who.ref} {who.head_name} ({who.village_name})\n{body}"
        _do(ctx, "household show", act, reading=True)

    @app.command("project")
    def project_cmd(
        ctx: typer.Context,
        family: Annotated[str, Opt(help="Family reference.")],
        activity: Annotated[str | None, Opt(
            help="Financed activity: " + ", ".join(k.value for k in ActivityKind))] = None,
        amount: Annotated[str | None, Opt(help="Riel to borrow from the Foundation.")] = None,
        months: Annotated[str, Opt(help="Months projected (the loan's term).")] = "12",
        as_of: Annotated[str | None, Opt(help="Disbursement day (default today).")] = None,
        seed: Annotated[str, Opt(help="Seed of the Monte Carlo.")] = "0",
        scenarios: Annotated[str, Opt(help="Monte Carlo scenarios.")] = str(SCENARIOS),
        as_json: JSON = False,
    ) -> None:
        """A family's next months with a Foundation loan: capacity, viability, risk."""
        def act(s: Session, actor: Any, today: date) -> Output:
            count = parsing.whole("--months", months, minimum=1)
            if count > MAX_MONTHS:
                raise CliError("--months", f"must be at most {MAX_MONTHS}, not {count}")
            kind = None if activity is None else parsing.choice("--activity", activity,
                                                                 ActivityKind)
            principal = None if amount is None else parsing.amount("--amount", amount, KHR)
            p = project_family(
                s, actor=actor, family_id=family_by_ref(s, family), activity=kind,
                amount=principal, months=count,
                as_of=parsing.iso_date("--as-of", as_of) if as_of else today,
                seed=parsing.whole("--seed", seed, minimum=0),
                scenarios=parsing.whole("--scenarios", scenarios, minimum=1))
            return project_json(p) if as_json else project_text(p)
        _do(ctx, "project", act, reading=True)
