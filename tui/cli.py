"""The `fsf` command line: one Typer app whose sub-commands live in `tui/commands/`."""

from __future__ import annotations

import typer


def build_app() -> typer.Typer:
    """Make the `fsf` Typer app with every sub-command registered (tests call this too)."""
    app = typer.Typer(
        name="fsf",
        help="FSF Ledger: the loan ledger of the Family Support Foundation.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def root() -> None:
        """FSF Ledger: families, loans, repayments and trainings of the Foundation."""

    from tui.commands import register_all

    register_all(app)
    return app


def main() -> None:
    """Console-script entry point."""
    build_app()()
