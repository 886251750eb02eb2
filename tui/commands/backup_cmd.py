"""`fsf backup [--to PATH]` and `fsf restore PATH [--force]`: verified copies of the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.actor import Permission
from ledger.backup import DEFAULT_KEEP, BackupError, has_ledger, restore, take_backup
from ledger.db import resolve_url
from tui.commands.context import acting_actor, demo_banner, get_cli, ledger_session, run
from tui.commands.errors import EXIT_FAILED_CHECK, CliError, fail

Opt = typer.Option
Arg = typer.Argument


def register(app: typer.Typer) -> None:
    """Attach `fsf backup` and `fsf restore`."""

    @app.command("backup")
    def backup(
        ctx: typer.Context,
        to: Annotated[Path | None, Opt(help="A file, or a folder for a dated file (default: "
                                       "the backups folder beside the ledger).")] = None,
        automatic: Annotated[bool, Opt("--auto", help=f"Keep it with the automatic backups "
                                       f"(the newest {DEFAULT_KEEP} are kept).")] = False,
        keep: Annotated[int, Opt(help="How many automatic backups to keep.")] = DEFAULT_KEEP,
    ) -> None:
        """Copy the ledger while it is in use, verify the copy, and name it with the date."""
        cli = get_cli(ctx)
        with ledger_session(cli, "backup") as session:
            actor = acting_actor(cli, session, "backup")
            run("backup", lambda: actor.require(Permission.VERIFY, "taking a backup"))
            banner = demo_banner(session)
            session.rollback()
        if banner:
            typer.echo(banner)
        try:
            result = take_backup(resolve_url(cli.db), to=to, automatic=automatic, keep=keep)
        except BackupError as exc:
            fail("backup", CliError("backup", str(exc), status=EXIT_FAILED_CHECK))
        typer.echo(f"Backup {result.path}: verified, {result.report.entries:,} entries, last "
                   f"hash {result.report.last_hash}")

    @app.command("restore")
    def restore_cmd(
        ctx: typer.Context,
        path: Annotated[Path, Arg(help="The backup file to restore.")],
        force: Annotated[bool, Opt(help="Replace an existing ledger (a copy of it is kept "
                                   "first).")] = False,
    ) -> None:
        """Put a backup in place of the ledger; refused when the backup does not verify."""
        cli = get_cli(ctx)
        url = resolve_url(cli.db)
        if has_ledger(url):  # replacing a ledger is for its administrators
            with ledger_session(cli, "restore") as session:
                actor = acting_actor(cli, session, "restore")
                run("restore", lambda: actor.require(Permission.MANAGE_USERS,
                                                     "replacing the ledger"))
        try:
            report = restore(path, url, force=force)
        except BackupError as exc:
            fail("restore", CliError("restore", str(exc), status=EXIT_FAILED_CHECK))
        typer.echo(f"Restored {path}: verified, {report.entries:,} entries, last hash "
                   f"{report.last_hash}")
