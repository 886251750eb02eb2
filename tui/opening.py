"""Opening the app from the command line (`fsf`, `fsf --db X --user Y`): the ledger's schema
brought up to date (after a backup), who acts first, and the app run until quit or hangup.
Nothing here grows with the ledger: the first screen waits for no report."""

from __future__ import annotations

import sys
from functools import partial
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ledger.actor import Actor
from ledger.db.schema_version import schema_is_current
from tui.app import make_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tui.commands.context import Cli

__all__ = ["open_app", "who_acts"]


def who_acts(cli: Cli, session: Session) -> Actor | None:
    """Who acts when the app opens: a demo ledger's demo administrator (unless --user names
    one of its real users); otherwise nobody yet, and the app asks: a new ledger is set up
    first, then the sign-in form is filled in with --user's name. Only a ledger that has a
    fund but no users (made before users existed) is refused here, saying how to add one."""
    from tui.commands.auth import DEMO_ADMIN, has_any_user
    from tui.commands.context import acting_actor, is_demo_ledger

    users = has_any_user(session)
    if is_demo_ledger(session) and (cli.user in (None, DEMO_ADMIN) or not users):
        return acting_actor(cli, session)
    set_up = session.execute(sa.text("SELECT id FROM fund LIMIT 1")).first() is not None
    if users or not set_up:
        return None
    return acting_actor(cli, session)  # exits 3: this ledger has no one to sign in as


def _backup_before_upgrade(url: sa.URL, path: str) -> None:
    """An older ledger is upgraded only after a backup: a verified automatic one (kept with
    the last ten), or a plain copy when this version cannot verify the older schema."""
    import shutil

    from ledger.backup import BackupError, take_backup
    from ledger.db import head_revision

    try:
        take_backup(url, automatic=True)
    except BackupError:
        shutil.copyfile(path, f"{path}.before-{head_revision().replace(',', '-')}.bak")


def _bring_schema_up_to_date(engine: sa.Engine) -> None:
    """Create a new ledger's tables, or upgrade an older ledger after a backup (Alembic)."""
    from ledger.db import current_revision, head_revision, upgrade
    from tui.commands.errors import CliError, fail

    try:
        revision = current_revision(engine)
    except sa.exc.OperationalError as exc:
        fail("fsf", CliError("--db", f"cannot open the ledger: {exc.orig}"))
    if revision is None:
        upgrade(engine)
    elif revision != head_revision():
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if not path:
            fail("fsf", CliError("--db", f"the ledger is at schema {revision}, this program "
                                 f"needs {head_revision()}: run `fsf db upgrade`"))
        engine.dispose()
        # Both steps read the whole ledger (minutes at national scale), before the screen
        # is taken: say what the wait is for.
        say = partial(print, file=sys.stderr, flush=True)
        say(f"fsf: this ledger is at schema {revision} and this program needs "
            f"{head_revision()}; backing it up and verifying the copy first (a large ledger "
            "takes minutes)…")
        _backup_before_upgrade(engine.url, path)
        say("fsf: upgrading the ledger…")
        upgrade(engine)
        say(f"fsf: the ledger is at schema {head_revision()}")


def open_app(cli: Cli) -> None:
    """Run the app until quit or hangup; nothing before the first screen grows with the ledger."""
    from sqlalchemy.orm import Session

    from tui.commands.context import ledger_facts, ledger_today, open_engine
    from tui.hangup import run_in_terminal

    engine = open_engine(cli, "fsf", create=True)
    if not schema_is_current(engine):
        _bring_schema_up_to_date(engine)
    with Session(engine, expire_on_commit=False) as session:
        actor = who_acts(cli, session)
        name = ledger_facts(session).get("ledger_name")
        cli.today = ledger_today(session, cli.today)
        session.rollback()
    try:
        run_in_terminal(make_app(engine=engine, today=cli.today, actor=actor, name=name,
                                 user_name=cli.user))
    finally:
        engine.dispose()
