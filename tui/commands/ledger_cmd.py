"""`fsf init`, `fsf db upgrade`, `fsf demo`, `fsf verify`: making, upgrading and checking a
ledger."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from ledger.actor import Permission
from ledger.db import current_revision, head_revision, upgrade
from ledger.db.tables import Family
from ledger.services.setup import setup_ledger
from ledger.verify import verify_ledger
from tui.commands.context import (
    acting_actor,
    demo_banner,
    get_cli,
    ledger_session,
    open_engine,
    run,
)
from tui.commands.errors import EXIT_FAILED_CHECK, CliError, fail

Opt = typer.Option


def register(app: typer.Typer) -> None:
    """Attach the ledger-level commands."""
    db_app = typer.Typer(help="The ledger's database schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @app.command("init")
    def init(
        ctx: typer.Context,
        name: Annotated[str, Opt(help="What this ledger is called.")] = "FSF Ledger",
        province: Annotated[str, Opt(help="Province whose villages to load.")] = "Svay Rieng",
        admin: Annotated[str, Opt(help="Sign-in name of the first administrator (password "
                                  "from FSF_PASSWORD or asked twice).")] = "",
    ) -> None:
        """Create a new, empty ledger with its first administrator: schema, the province's
        villages, the riel fund, the Foundation's loan product."""
        from ledger.actor import SYSTEM
        from ledger.services.unit import use_case
        from ledger.users import create_first_admin
        from tui.commands.auth import PASSWORD_ENV, read_new_password

        if not admin:
            fail("init", CliError("--admin", "name the first administrator: --admin NAME"))
        cli = get_cli(ctx)
        engine = open_engine(cli, "init", create=True)
        if current_revision(engine) is not None:
            fail("init", CliError("--db", "a ledger already exists there"))
        password = read_new_password("init", admin, env=PASSWORD_ENV)
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            def make() -> None:
                with use_case(session):
                    setup_ledger(session, actor=SYSTEM, name=name, province=province)
                    create_first_admin(session, name=admin, password=password)

            run("init", make)
        typer.echo(f"Created ledger {name!r} for {province} at {engine.url.render_as_string()}"
                   f" with administrator {admin}")

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        """Bring an older ledger's schema up to this program's."""
        from ledger.backup import BackupError, take_backup

        engine = open_engine(get_cli(ctx), "db upgrade", create=True)
        before = current_revision(engine)
        if before is not None and before != head_revision():
            typer.echo(f"Backing up and verifying the ledger (schema {before}) before the "
                       "upgrade; a large ledger takes minutes…")
            try:  # an older ledger is copied (and the copy verified) before it is changed
                kept = take_backup(engine.url, automatic=True)
            except BackupError as exc:
                fail("db upgrade", CliError("backup", f"{exc}; the ledger was not upgraded",
                                            status=EXIT_FAILED_CHECK))
            typer.echo(f"Backup before upgrading: {kept.path}")
            typer.echo(f"Upgrading to schema {head_revision()}…")
        upgrade(engine)
        typer.echo(f"Schema {before or 'empty'} -> {current_revision(engine)}")

    @app.command("demo")
    def demo(
        ctx: typer.Context,
        seed: Annotated[int, Opt(help="Same seed, same ledger.")] = 2008,
    ) -> None:
        """Build the demo ledger of the Svay Rieng programme (271 families, 36,600,000 riel)."""
        from ledger.demo.build import build_demo

        engine = open_engine(get_cli(ctx), "demo", create=True)
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            if session.query(Family.id).first() is not None:
                fail("demo", CliError("--db", "that ledger is not empty; give a new --db"))
            summary = build_demo(session, seed=seed)
        typer.echo(f"DEMO ledger at {engine.url.render_as_string()}: {summary.families} "
                   f"families, {summary.loans} loans ({summary.disbursed} disbursed), "
                   f"{summary.repayments} repayments, as of {summary.as_of}")

    @app.command("verify")
    def verify(
        ctx: typer.Context,
        as_json: Annotated[bool, Opt("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Recompute the hash chain, check every entry balances, and tie the portfolio and cash
        to the loans and records. Exits 1 naming the first broken check."""
        cli = get_cli(ctx)
        with ledger_session(cli, "verify") as session:
            actor = acting_actor(cli, session, "verify")
            run("verify", lambda: actor.require(Permission.VERIFY))
            banner = demo_banner(session)
            report = verify_ledger(session)
        if banner and not as_json:
            typer.echo(banner)
        if as_json:
            typer.echo(json.dumps({
                "demo": bool(banner), "ok": report.ok, "entries": report.entries,
                "last_seq": report.last_seq, "last_hash": report.last_hash,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                           for c in report.checks]}, ensure_ascii=False))
        else:
            for check in report.checks:
                typer.echo(f"{'OK  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
            typer.echo(f"Last entry {report.last_seq}, hash {report.last_hash}")
        if not report.ok:
            failure = report.first_failure
            assert failure is not None
            fail("verify", CliError(failure.name, failure.detail, status=EXIT_FAILED_CHECK))
