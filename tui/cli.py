"""The `fsf` command line: one Typer app whose sub-commands live in `tui/commands/`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="fsf",
    help="FSF Ledger: the loan ledger of the Family Support Foundation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    from tui.commands import register_all

    register_all(app)
    app()
