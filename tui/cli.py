"""The `fsf` command line: one Typer app whose sub-commands live in `tui/commands/`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

ROOT_OPTIONS = ("--db", "--user")  # the options `fsf` itself takes, each with a value


def opens_the_app(args: Sequence[str]) -> bool:
    """Whether these arguments only open the terminal app (`fsf [--db X] [--user Y]`): then
    no sub-command is needed, and none of their modules is imported before the first screen."""
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word.partition("=")[0] in ROOT_OPTIONS and "=" in word:
            continue
        if word not in ROOT_OPTIONS or not rest:
            return False
        rest.pop(0)
    return True


def build_app(*, commands: bool = True) -> typer.Typer:
    """Make the `fsf` Typer app with every sub-command registered (tests call this too);
    `commands=False` leaves them out, for opening the terminal app quickly."""
    app = typer.Typer(
        name="fsf",
        help="FSF Ledger: the loan ledger of the Family Support Foundation.",
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback(invoke_without_command=True)
    def root(
        ctx: typer.Context,
        db: Annotated[str | None, typer.Option(
            "--db", envvar="FSF_DATABASE_URL",
            help="Ledger file or database URL (default: your own ledger).")] = None,
        user: Annotated[str | None, typer.Option(
            "--user", envvar="FSF_USER", help="Act as this user.")] = None,
    ) -> None:
        """FSF Ledger: families, loans, repayments and trainings of the Foundation."""
        from tui.commands.context import Cli, env_today

        ctx.obj = Cli(db=db, user=user, today=env_today())
        if ctx.invoked_subcommand is None:
            from tui.opening import open_app

            open_app(ctx.obj)

    if commands:
        from tui.commands import register_all

        register_all(app)
    return app


def main() -> None:
    """Console-script entry point."""
    build_app(commands=not opens_the_app(sys.argv[1:]))()


if __name__ == "__main__":
    main()
