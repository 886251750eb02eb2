"""`fsf approvals`, `fsf approve ID`, `fsf reject ID --reason`, `fsf propose write-off|reversal`
and `fsf approval-limits`: the maker-checker queue on the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from ledger.approvals import (
    approve,
    list_pending,
    loan_limit,
    propose_reversal,
    propose_write_off,
    reject,
    reversal_days,
    set_approval_limits,
)
from ledger.money import KHR, Money
from tui.commands import parsing
from tui.commands.context import acting_actor, echo_demo_banner, get_cli, ledger_session, run
from tui.commands.errors import CliError, fail

Opt = typer.Option
Arg = typer.Argument


def _day(value: str | None, today: date, option: str, command: str) -> date:
    if value is None:
        return today
    try:
        return parsing.iso_date(option, value)
    except CliError as exc:
        fail(command, exc)


def register(app: typer.Typer) -> None:
    """Attach the maker-checker commands."""
    propose_app = typer.Typer(help="Propose what a second person must approve.",
                              no_args_is_help=True)
    app.add_typer(propose_app, name="propose")

    @app.command("approvals")
    def approvals(
        ctx: typer.Context,
        as_json: Annotated[bool, Opt("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """List loans awaiting approval and queued write-offs and reversals."""
        cli = get_cli(ctx)
        with ledger_session(cli, "approvals", reading=True) as session:
            actor = acting_actor(cli, session, "approvals")
            items = run("approvals", lambda: list_pending(session, actor=actor))
            if as_json:
                typer.echo(json.dumps({"demo": actor.demo, "pending": [
                    {"id": i.id, "kind": i.kind, "loan": i.loan_ref, "amount": i.amount.plain(),
                     "currency": i.amount.currency.code, "on": i.on.isoformat(),
                     "requested_by": i.requested_by, "reason": i.reason,
                     "second_person": i.second_person} for i in items]}, ensure_ascii=False))
                return
            echo_demo_banner(session)
        if not items:
            typer.echo("Nothing waits for approval.")
        for i in items:
            key = f"#{i.id}" if i.id is not None else "loan"
            two = "  (another user must approve)" if i.second_person else ""
            typer.echo(f"{key:<6} {i.kind:<10} {i.loan_ref:<14} {i.amount!s:>14}  {i.on}  "
                       f"by {i.requested_by}{two}" + (f": {i.reason}" if i.reason else ""))

    @app.command("approve")
    def approve_cmd(
        ctx: typer.Context,
        approval_id: Annotated[int, Arg(help="The number `fsf approvals` shows.")],
        note: Annotated[str, Opt(help="A note kept with the decision.")] = "",
    ) -> None:
        """Approve a queued write-off or reversal (it is posted now)."""
        cli = get_cli(ctx)
        with ledger_session(cli, "approve") as session:
            actor = acting_actor(cli, session, "approve")
            row = run("approve", lambda: approve(session, actor=actor, approval_id=approval_id,
                                                 today=cli.today, note=note))
            echo_demo_banner(session)
        typer.echo(f"Approved {row.kind.replace('_', '-')} #{approval_id}; journal entry "
                   f"{row.entry_id}")

    @app.command("reject")
    def reject_cmd(
        ctx: typer.Context,
        approval_id: Annotated[int, Arg(help="The number `fsf approvals` shows.")],
        reason: Annotated[str, Opt(help="Why it is turned down.")],
    ) -> None:
        """Turn down a queued write-off or reversal; nothing is posted."""
        cli = get_cli(ctx)
        with ledger_session(cli, "reject") as session:
            actor = acting_actor(cli, session, "reject")
            run("reject", lambda: reject(session, actor=actor, approval_id=approval_id,
                                         reason=reason))
            echo_demo_banner(session)
        typer.echo(f"Rejected #{approval_id}")

    @propose_app.command("write-off")
    def propose_write_off_cmd(
        ctx: typer.Context,
        loan_id: Annotated[int, Arg(help="The loan's id.")],
        reason: Annotated[str, Opt(help="Why the loan is written off.")],
        on: Annotated[str | None, Opt(help="Date of the write-off (default today).")] = None,
    ) -> None:
        """Propose writing a loan off; a different user approves it."""
        cli = get_cli(ctx)
        day = _day(on, cli.today, "--on", "propose write-off")
        with ledger_session(cli, "propose write-off") as session:
            actor = acting_actor(cli, session, "propose write-off")
            row = run("propose write-off", lambda: propose_write_off(
                session, actor=actor, loan_id=loan_id, on=day, today=cli.today, reason=reason))
            echo_demo_banner(session)
        typer.echo(f"Write-off #{row.id} of {Money.from_minor(row.amount_minor, row.currency)} "
                   "waits for another user's approval")

    @propose_app.command("reversal")
    def propose_reversal_cmd(
        ctx: typer.Context,
        repayment_id: Annotated[int, Arg(help="The repayment's id.")],
        reason: Annotated[str, Opt(help="Why the repayment is reversed.")],
        on: Annotated[str | None, Opt(help="Date of the reversal (default today).")] = None,
    ) -> None:
        """Propose reversing an old repayment; a different user approves it."""
        cli = get_cli(ctx)
        day = _day(on, cli.today, "--on", "propose reversal")
        with ledger_session(cli, "propose reversal") as session:
            actor = acting_actor(cli, session, "propose reversal")
            row = run("propose reversal", lambda: propose_reversal(
                session, actor=actor, repayment_id=repayment_id, on=day, reason=reason))
            echo_demo_banner(session)
        typer.echo(f"Reversal #{row.id} waits for another user's approval")

    @app.command("approval-limits")
    def limits(
        ctx: typer.Context,
        loan_above: Annotated[str | None, Opt(help="Riel above which a loan needs an approver "
                                              "other than its applicant.")] = None,
        reversal_after: Annotated[int | None, Opt(help="Days after which reversing a repayment "
                                                  "needs a second person.")] = None,
    ) -> None:
        """Show the maker-checker limits, or set them (administrators)."""
        cli = get_cli(ctx)
        amount = None
        if loan_above is not None:
            try:
                amount = Money(parsing.amount("--loan-above", loan_above, KHR, positive=False),
                               KHR)
            except CliError as exc:
                fail("approval-limits", exc)
        with ledger_session(cli, "approval-limits") as session:
            actor = acting_actor(cli, session, "approval-limits")
            if amount is not None or reversal_after is not None:
                run("approval-limits", lambda: set_approval_limits(
                    session, actor=actor, loan_above=amount, reversal_after_days=reversal_after))
            echo_demo_banner(session)
            typer.echo(f"Loans above {loan_limit(session, 'KHR')} need a second person; so do "
                       f"reversals of repayments older than {reversal_days(session)} days.")
