"""What every ledger command shares: which ledger (--db), who acts (--user), what day it is,
and how service refusals reach the terminal (one line; exit 2, or 3 for a role refusal)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NoReturn, TypeVar

import sqlalchemy as sa
import typer
from sqlalchemy.orm import Session

from ledger.actor import Actor, PermissionDenied
from ledger.db import current_revision, head_revision, make_engine, resolve_url
from ledger.services.errors import ServiceError
from tui.commands.errors import CliError, fail

__all__ = [
    "EXIT_REFUSED",
    "Cli",
    "get_cli",
    "ledger_session",
    "open_engine",
    "refuse",
    "run",
]

EXIT_REFUSED = 3
T = TypeVar("T")


@dataclass
class Cli:
    """The global options of `fsf`, resolved once per invocation."""

    db: str | None = None
    user: str | None = None
    today: date = field(default_factory=date.today)


def get_cli(ctx: typer.Context) -> Cli:
    """The `Cli` the root callback stored (a default one when a command runs alone in tests)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Cli):
        root.obj = Cli()
    return root.obj


def _sqlite_path(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def open_engine(cli: Cli, command: str, *, create: bool = False) -> sa.Engine:
    """The engine of the ledger `--db` names; refuses a missing or out-of-date ledger unless
    `create` (for `fsf init`, `fsf demo`, `fsf db upgrade`)."""
    url = resolve_url(cli.db)
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        if not create:
            fail(command, CliError("--db", f"no ledger at {path}; create one with `fsf init` "
                                   "or `fsf demo`"))
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    if not create:
        try:
            current = current_revision(engine)
        except sa.exc.OperationalError as exc:
            fail(command, CliError("--db", f"cannot open the ledger: {exc.orig}"))
        if current is None:
            fail(command, CliError("--db", "this database holds no ledger; run `fsf init`"))
        if current != head_revision():
            fail(command, CliError("--db", f"the ledger is at schema {current}, this program "
                                   f"needs {head_revision()}: run `fsf db upgrade`"))
    return engine


@contextmanager
def ledger_session(cli: Cli, command: str) -> Iterator[Session]:
    """A session on the ledger, closed afterwards; services commit their own use cases."""
    engine = open_engine(cli, command)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def refuse(command: str, exc: PermissionDenied) -> NoReturn:
    """A role refusal: one line naming the role needed, exit status 3."""
    fail(command, CliError("refused", str(exc), status=EXIT_REFUSED))


def run(command: str, action: Callable[[], T]) -> T:
    """Run a service call, turning its refusals into one clear line and an exit status."""
    try:
        return action()
    except PermissionDenied as exc:
        refuse(command, exc)
    except ServiceError as exc:
        fail(command, CliError(exc.field or "error", exc.message))


def env_today() -> date:
    """Today, or `FSF_TODAY` (YYYY-MM-DD) so scripts and tests can pin the date."""
    value = os.environ.get("FSF_TODAY")
    return date.fromisoformat(value) if value else date.today()


def acting_actor(cli: Cli, session: Session) -> Actor:
    """Who this command acts as; see `tui.commands.auth`."""
    from tui.commands.auth import authenticate

    return authenticate(cli, session)
