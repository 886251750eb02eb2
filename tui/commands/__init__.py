"""Sub-commands of `fsf`; each module registers its commands on the Typer app."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    """Attach every sub-command to `app` (imported lazily to keep start-up quick)."""
    from tui.commands import compare_cmd, ledger_cmd, schedule_cmd

    schedule_cmd.register(app)
    compare_cmd.register(app)
    ledger_cmd.register(app)
    from tui.commands import training_cmd

    training_cmd.register(app)
    from tui.commands import approval_cmd, backup_cmd, user_cmd

    user_cmd.register(app)
    backup_cmd.register(app)
    approval_cmd.register(app)
    from tui.commands import export_cmd

    export_cmd.register(app)
    from tui.commands import import_cmd

    import_cmd.register(app)
    from tui.commands import report_cmd

    report_cmd.register(app)
    from tui.commands import project_cmd

    project_cmd.register(app)
