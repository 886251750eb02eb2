"""The `fsf report` command group, shared by every module that adds a report to it."""

from __future__ import annotations

import typer

_ATTR = "_fsf_report_group"


def report_group(app: typer.Typer) -> typer.Typer:
    """The `report` sub-app of `app`, created on first use so each module can add to it."""
    group: typer.Typer | None = getattr(app, _ATTR, None)
    if group is None:
        group = typer.Typer(help="Reports as of any date (--as-of; default today).",
                            no_args_is_help=True)
        app.add_typer(group, name="report")
        setattr(app, _ATTR, group)
    return group
