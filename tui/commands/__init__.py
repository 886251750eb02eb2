"""Sub-commands of `fsf`; each module registers its commands on the Typer app."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    """Attach every sub-command to `app` (imported lazily to keep start-up quick)."""
    from tui.commands import compare_cmd, ledger_cmd, schedule_cmd

    schedule_cmd.register(app)
    compare_cmd.register(app)
    ledger_cmd.register(app)
